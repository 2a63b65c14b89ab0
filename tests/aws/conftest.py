"""Fixtures: the offline plans of the AWS example stacks (each planned once per session)."""

from __future__ import annotations

import pytest
from plan_helpers import stack_plan

from lepton_infra.plan.model import Plan


@pytest.fixture(scope="session")
def dev() -> Plan:
    return stack_plan("aws-dev")


@pytest.fixture(scope="session")
def prod() -> Plan:
    return stack_plan("aws-prod")
