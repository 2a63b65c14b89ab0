"""The multicloud stack: the Alibaba site sits beside AWS and Azure, each through its own provider."""

from __future__ import annotations

from plan_helpers import only, whole_plan


def test_each_cloud_plans_through_its_own_provider_and_serve_runs_on_all_three() -> None:
    plan = whole_plan("multicloud")
    regions = {
        "aws": only(plan, "pulumi:providers:aws").inputs["region"],
        "alicloud": only(plan, "pulumi:providers:alicloud").inputs["region"],
    }
    assert regions == {"aws": "us-west-2", "alicloud": "ap-southeast-1"}
    assert plan.of_type("pulumi:providers:azure-native")
    for cloud in ("aws", "alicloud", "azure-native"):
        resources = [r for r in plan.custom_resources() if r.type.startswith(f"{cloud}:")]
        assert resources
        assert {(r.provider or "").split("::")[2].rsplit("$", 1)[-1] for r in resources} == {
            f"pulumi:providers:{cloud}"
        }
    servers = plan.of_type("kubernetes:apps/v1:Deployment")
    assert {d.name for d in servers} == {
        "aws-usw2-serve-deploy",
        "azure-weu-serve-deploy",
        "ali-sg-serve-deploy",
    }
    ali = only(plan, "kubernetes:apps/v1:Deployment", "ali-sg-")
    selector = ali.inputs["spec"]["template"]["spec"]["nodeSelector"]
    assert selector == {"lepton.ai/accelerator": "T4", "lepton.ai/pool": "t4"}
    assert only(plan, "alicloud:cs/nodePool:NodePool", "-t4-").inputs["instanceTypes"] == [
        "ecs.gn6i-c4g1.xlarge"
    ]
