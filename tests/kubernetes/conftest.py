"""Fixtures: the Kubernetes objects of the example stacks' offline plans."""

from __future__ import annotations

import pytest
from manifest_helpers import Manifests
from plan_helpers import stack_plan


@pytest.fixture(scope="session")
def onprem() -> Manifests:
    return Manifests(stack_plan("existing-cluster"))


@pytest.fixture(scope="session")
def aws_dev() -> Manifests:
    return Manifests(stack_plan("aws-dev"))


@pytest.fixture(scope="session")
def byo() -> Manifests:
    """Our trainer, a user's training image and a vLLM service on one existing cluster."""
    return Manifests(stack_plan("byo-containers"))
