"""Every operability rule: a site that passes it, and a one-change site that fails it with the exact
finding (the pulumi/compliance-policies pattern: a compliant baseline, one field changed per case)."""

from __future__ import annotations

import pytest
from op_fixtures import RULES, baseline, mutated, op_cases, op_files, operability
from policy_fixtures import Case


@pytest.mark.parametrize("file", [str(p.name) for p in op_files()])
def test_baseline_site_passes_every_operability_rule(file: str) -> None:
    assert [(v.policy, v.message) for v in operability(baseline(file))] == []


@pytest.mark.parametrize("case", op_cases(), ids=lambda c: c.id)
def test_one_change_fails_exactly_the_rule_it_breaks(case: Case) -> None:
    violations = operability(mutated(case))
    assert {v.policy for v in violations} == case.policies
    messages = [v.message for v in violations if v.policy == case.policy]
    assert any(case.expect in m for m in messages), messages


def test_every_rule_has_a_failing_case() -> None:
    covered = {c.policy for c in op_cases()}
    assert {r.name for r in RULES} <= covered
