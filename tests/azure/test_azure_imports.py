"""A stack with an AWS and an Azure site gives each its own provider."""

from __future__ import annotations

import copy

from plan_helpers import config_plan, stack_config


def test_a_stack_with_an_aws_and_an_azure_site_gives_each_its_own_provider() -> None:
    aws_site = copy.deepcopy(stack_config("aws-dev")["sites"][0])
    platform = copy.deepcopy(stack_config("azure-prod"))
    platform["sites"].append(aws_site)
    platform["workloads"] = []
    platform.pop("deployment")  # both layers in one stack: each site gets its Kubernetes provider too
    plan = config_plan(platform)
    for package in ("aws", "azure-native"):
        provider = next(r for r in plan.resources if r.type == f"pulumi:providers:{package}")
        cloud = [r for r in plan.custom_resources() if r.type.startswith(f"{package}:")]
        assert cloud
        assert {r.provider.split("::")[-2] if r.provider else None for r in cloud} == {provider.name}
    assert len(plan.of_type("pulumi:providers:kubernetes")) == 2
