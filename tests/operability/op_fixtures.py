"""The operability pack's fixtures: a site per cloud that will run, and one-change cases that must not.

Same format as the security pack's (``policy_fixtures``), from this directory's ``fixtures`` root.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from policy_fixtures import Case, cases, fixture_files, load, plan

from lepton_infra.plan.evaluate_view import evaluate_view_rules
from lepton_infra.plan.loaders import plan_from_json
from lepton_infra.plan.model import Plan, Violation
from lepton_infra.plan.packs import OPERABILITY
from lepton_infra.policies.config import PackConfig
from lepton_infra.policies.operability.registry import all_policies

FIXTURES = Path(__file__).parent / "fixtures"
REVIEWED = Path(__file__).parent / "plans_ae54ed7"
RULES = all_policies()


def operability(plan_: Plan, config: PackConfig | None = None) -> list[Violation]:
    return evaluate_view_rules(plan_, RULES, OPERABILITY, config)


def op_cases() -> list[Case]:
    return cases(FIXTURES)


def op_files() -> list[Path]:
    return fixture_files(FIXTURES)


def baseline(file: str, stack: str = "test") -> Plan:
    return plan(load(FIXTURES / file), stack=stack)


def mutated(case: Case, stack: str = "test") -> Plan:
    return plan(load(FIXTURES / case.file), case, stack=stack)


def before(stack: str) -> Plan:
    """The plan of ``stacks/Pulumi.<stack>.yaml`` at commit ae54ed7, before the day-one fixes."""
    with gzip.open(REVIEWED / f"{stack}.json.gz", "rt", encoding="utf-8") as f:
        return plan_from_json(json.load(f))
