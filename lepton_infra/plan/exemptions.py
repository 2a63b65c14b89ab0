"""Exemptions from the pack config, applied to violations the same way for every pack and every runner."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from lepton_infra.plan.model import Violation
from lepton_infra.policies.config import PackConfig


def with_exemptions(violations: Iterable[Violation], config: PackConfig) -> list[Violation]:
    """The violations, each exempted one carrying the written reason from the pack config."""
    return [_exempt(v, config) for v in violations]


def _exempt(violation: Violation, config: PackConfig) -> Violation:
    exemption = config.exemption_for(violation.policy, violation.urn)
    return violation if exemption is None else replace(violation, exemption=exemption.reason)
