"""Fixtures: the offline plans of the AWS example stacks (each planned once per session)."""

from __future__ import annotations

import pytest
from plan_helpers import stack_plan, whole_plan

from lepton_infra.plan.model import Plan


@pytest.fixture(scope="session")
def dev() -> Plan:
    return stack_plan("aws-dev")


@pytest.fixture(scope="session")
def prod() -> Plan:
    """aws-prod's platform in one stack: its cloud layer and its Kubernetes layer (aws-prod-k8s) together
    (tests/core/test_deployment_layers.py shows the two layers deploy exactly this)."""
    return whole_plan("aws-prod")
