"""Run a pack of view rules on a plan in-process: the operability pack's entry to ``evaluate``'s runner."""

from __future__ import annotations

from collections.abc import Sequence

from lepton_infra.plan.evaluate import evaluate_rules
from lepton_infra.plan.model import Plan, Violation
from lepton_infra.policies.config import PackConfig
from lepton_infra.policies.rule import PolicyRule


def evaluate_view_rules(
    plan: Plan, rules: Sequence[PolicyRule], pack: str, config: PackConfig | None = None
) -> list[Violation]:
    """Every rule of ``pack`` on ``plan``; exempted results carry their reason."""
    return evaluate_rules(plan, rules, pack, config)
