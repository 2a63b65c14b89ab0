"""An Azure-only stack imports no AWS or Alibaba SDK; a mixed stack gives each site its own provider."""

from __future__ import annotations

import copy
import subprocess
import sys

from plan_helpers import ROOT, config_plan, stack_config

PROBE = """
import sys
from pathlib import Path
from lepton_infra.plan.engine import run_plan
plan = run_plan(Path({root!r}), "azure-prod")
assert plan.of_type("azure-native:containerservice:ManagedCluster")
sdks = ("pulumi_aws", "pulumi_azure_native", "pulumi_alicloud")
print(",".join(sorted(m for m in sdks if m in sys.modules)))
"""


def test_an_azure_only_stack_plans_without_the_aws_or_alibaba_sdks() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", PROBE.format(root=str(ROOT))],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout.strip()
    assert loaded == "pulumi_azure_native"


def test_a_stack_with_an_aws_and_an_azure_site_gives_each_its_own_provider() -> None:
    aws_site = copy.deepcopy(stack_config("aws-dev")["sites"][0])
    platform = copy.deepcopy(stack_config("azure-prod"))
    platform["sites"].append(aws_site)
    platform["workloads"] = []
    plan = config_plan(platform)
    for package in ("aws", "azure-native"):
        provider = next(r for r in plan.resources if r.type == f"pulumi:providers:{package}")
        cloud = [r for r in plan.custom_resources() if r.type.startswith(f"{package}:")]
        assert cloud
        assert {r.provider.split("::")[-2] if r.provider else None for r in cloud} == {provider.name}
    assert len(plan.of_type("pulumi:providers:kubernetes")) == 2
