"""Run a pack of view rules (``rule.view_policy``) on a plan in-process, without pulumi_policy.

The semantics are the analyzer's, as ``evaluate.evaluate_plan`` has them for the security pack: each
rule's enforcement from the pack config (``disabled`` skipped, ``remediate`` reported as ``mandatory``),
its settings from that config, exemptions applied last with their written reason. The rules read the
neutral view of the plan (``view.stack_view``), built once and shared, so derived facts (the operability
pack's clusters and pools) are computed once per check. ``analyzer_driver`` reaches the same rules
through the pack's gRPC analyzer; the tests require the two to agree.
"""

from __future__ import annotations

from collections.abc import Sequence

from lepton_infra.plan.exemptions import with_exemptions
from lepton_infra.plan.model import Plan, Violation
from lepton_infra.plan.view import stack_view
from lepton_infra.policies.config import PackConfig
from lepton_infra.policies.rule import PolicyRule
from lepton_infra.policies.settings import settings_from


def evaluate_view_rules(
    plan: Plan, rules: Sequence[PolicyRule], pack: str, config: PackConfig | None = None
) -> list[Violation]:
    """Every view rule of ``pack`` on ``plan``; exempted results carry their reason."""
    config = config or PackConfig()
    entries = config.to_pulumi_config(rules, with_exemptions=False, validate=False)
    stack = stack_view(plan)
    found: list[Violation] = []
    for rule in rules:
        if rule.view_check is None:
            raise ValueError(f"{rule.name} is not a rule over the neutral view")
        entry = entries[rule.name]
        level = str(entry["enforcementLevel"])
        if level == "disabled":
            continue
        settings = settings_from({k: v for k, v in entry.items() if k != "enforcementLevel"})
        for finding in rule.view_check(stack, settings):
            found.append(
                Violation(
                    policy=rule.name,
                    pack=pack,
                    enforcement="mandatory" if level == "remediate" else level,
                    severity=rule.severity,
                    urn=finding.urn,
                    message=finding.message,
                )
            )
    return with_exemptions(found, config)
