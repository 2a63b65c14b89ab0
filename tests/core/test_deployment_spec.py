"""`deployment` and `kubernetes_runner`: a stack never deploys a Kubernetes layer it cannot reach.

A private EKS endpoint answers only from inside the VPC or a connected network, and on the first `pulumi up`
that VPC does not exist yet: the same program then fails creating Kubernetes objects with "configured
Kubernetes cluster is unreachable" (pulumi/pulumi-eks#1134, #154; EKS user guide, cluster-endpoint:
"Any kubectl commands must come from within the VPC or a connected network"). AKS with a private API server
and ACK without an internet SLB behave the same.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from multikueue_config import two_sites
from plan_helpers import ROOT, STACKS, spec_issues, stack_config, stack_layer

from lepton_infra.blueprint import PlatformSpec
from lepton_infra.cli import main

CLOUD_STACK = "organization/lepton-infra/aws-prod"


def private_aws() -> dict[str, Any]:
    """aws-prod as one stack (layer: all), its endpoint private, and no runner declared."""
    platform = copy.deepcopy(stack_config("aws-prod"))
    platform.pop("deployment")
    platform["sites"][0].pop("kubernetes_runner")
    return platform


def messages(platform: dict[str, Any]) -> dict[str, str]:
    return dict(spec_issues(platform))


def test_a_stack_that_deploys_a_private_sites_kubernetes_layer_without_a_way_in_is_refused() -> None:
    issues = messages(private_aws())
    assert list(issues) == ["sites[0].kubernetes_runner"]
    message = issues["sites[0].kubernetes_runner"]
    assert "the API endpoint is private (network.api_allowlist is empty)" in message
    assert "kubernetes_runner: {location: in-network}" in message
    assert "deployment.layer: cloud" in message


@pytest.mark.parametrize(
    "way_in",
    [
        {"sites": {"kubernetes_runner": {"location": "in-network"}}},
        {"sites": {"network": {"cidr": "10.30.0.0/16", "api_allowlist": ["198.51.100.0/24"]}}},
        {"deployment": {"layer": "cloud"}},
    ],
    ids=["in-network runner", "allowlisted endpoint", "cloud layer only"],
)
def test_a_declared_way_in_or_no_kubernetes_layer_is_accepted(way_in: dict[str, Any]) -> None:
    platform = private_aws()
    platform["sites"][0] |= way_in.get("sites", {})
    platform |= {k: v for k, v in way_in.items() if k == "deployment"}
    assert PlatformSpec.model_validate(platform).sites[0].name == "aws-usw2"


def test_a_kubernetes_layer_without_its_cloud_stack_is_refused() -> None:
    platform = copy.deepcopy(stack_config("aws-prod-k8s"))
    platform["deployment"].pop("cloud_stack")
    assert (
        "name that stack, e.g. organization/lepton-infra/aws-prod"
        in messages(platform)["deployment.cloud_stack"]
    )


@pytest.mark.parametrize("name", ["aws-prod", "lepton-infra/aws-prod", "org/lepton-infra/aws prod"])
def test_a_cloud_stack_that_is_not_fully_qualified_is_refused(name: str) -> None:
    platform = copy.deepcopy(stack_config("aws-prod-k8s"))
    platform["deployment"]["cloud_stack"] = name
    assert "deployment.cloud_stack" in messages(platform)


def test_a_cloud_stack_or_a_site_subset_outside_a_kubernetes_layer_is_refused() -> None:
    platform = copy.deepcopy(stack_config("aws-prod"))
    platform["deployment"] |= {"cloud_stack": CLOUD_STACK, "sites": ["aws-usw2"]}
    issues = messages(platform)
    assert "set layer: kubernetes" in issues["deployment.cloud_stack"]
    assert "only a Kubernetes layer deploys a subset of sites" in issues["deployment.sites"]


def test_a_kubernetes_layer_names_only_sites_of_the_platform_once() -> None:
    platform = copy.deepcopy(stack_config("multicloud-aws-k8s"))
    platform["deployment"]["sites"] = ["aws-usw2", "gcp-usc1", "aws-usw2"]
    issues = messages(platform)
    assert issues["deployment.sites[1]"].startswith("no site named 'gcp-usc1'; sites: aws-usw2, azure-weu")
    assert issues["deployment.sites[2]"] == "site 'aws-usw2' is listed more than once"


def test_a_kubernetes_layer_of_some_sites_needs_no_way_into_the_others() -> None:
    platform = copy.deepcopy(stack_config("multicloud-aws-k8s"))
    for site in platform["sites"][1:]:
        site.pop("kubernetes_runner")
    assert PlatformSpec.model_validate(platform).deployment.sites == ("aws-usw2",)
    platform["sites"][0].pop("kubernetes_runner")
    assert list(messages(platform)) == ["sites[0].kubernetes_runner"]


def test_an_allowlisted_runner_needs_a_public_endpoint_that_admits_it() -> None:
    platform = private_aws()
    platform["sites"][0]["kubernetes_runner"] = {"location": "allowlisted"}
    assert "network.api_allowlist is empty" in messages(platform)["sites[0].kubernetes_runner.location"]
    platform["sites"][0]["network"]["api_allowlist"] = ["198.51.100.0/24"]
    platform["sites"][0]["kubernetes_runner"]["cidrs"] = ["198.51.100.7/32", "192.0.2.0/28"]
    assert messages(platform) == {
        "sites[0].kubernetes_runner.cidrs[1]": "192.0.2.0/28 is not within network.api_allowlist"
    }


def test_an_in_network_runner_connects_from_private_addresses() -> None:
    platform = private_aws()
    platform["sites"][0]["kubernetes_runner"] = {
        "location": "in-network",
        "cidrs": ["10.99.0.0/24", "8.8.8.0/24"],
    }
    assert messages(platform) == {
        "sites[0].kubernetes_runner.cidrs[1]": (
            "8.8.8.0/24 is not a private range; a runner on the internet is `allowlisted`"
        )
    }


def test_an_existing_cluster_has_no_cloud_layer() -> None:
    platform = copy.deepcopy(stack_config("existing-cluster"))
    platform["deployment"] = {"layer": "cloud"}
    assert "an existing cluster has no cloud layer" in messages(platform)["deployment.layer"]


def test_validate_names_the_file_line_and_field_of_a_missing_way_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "stacks").mkdir()
    text = (ROOT / "stacks" / "Pulumi.aws-prod-k8s.yaml").read_text()
    runner = "        kubernetes_runner: {location: in-network}\n"
    assert runner in text
    (tmp_path / "stacks" / "Pulumi.aws-prod-k8s.yaml").write_text(text.replace(runner, ""))
    code = main(["validate", "--project", str(tmp_path), "--stack", "aws-prod-k8s"])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    line = next(i for i, t in enumerate(text.replace(runner, "").splitlines(), 1) if "- name: aws-usw2" in t)
    assert (
        f"Pulumi.aws-prod-k8s.yaml:{line}: lepton-infra:platform.sites[0].kubernetes_runner: the API" in err
    )


def test_the_schema_offers_the_deployment_and_the_runner(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    deployment = schema["$defs"]["DeploymentSpec"]["properties"]
    assert set(deployment) == {"layer", "cloud_stack", "sites"}
    assert schema["$defs"]["Layer"]["enum"] == ["all", "cloud", "kubernetes"]
    assert "kubernetes_runner" in schema["$defs"]["AwsSiteSpec"]["properties"]
    assert schema["$defs"]["RunnerLocation"]["enum"] == ["in-network", "allowlisted"]


def test_each_kubernetes_layer_stack_carries_the_platform_of_its_cloud_layer() -> None:
    """Both layers validate against their own copy of the platform: the example copies are the same."""
    for stack in (s for s in STACKS if stack_layer(s) == "kubernetes"):
        platform = copy.deepcopy(stack_config(stack))
        cloud_stack = platform.pop("deployment")["cloud_stack"].split("/")[-1]
        assert stack_layer(cloud_stack) == "cloud", stack
        cloud = copy.deepcopy(stack_config(cloud_stack))
        cloud.pop("deployment")
        assert platform == cloud, stack


def test_a_kubernetes_layer_deploys_every_multikueue_site_or_none_of_them() -> None:
    """MultiKueue makes objects on its workers and on its manager in one `pulumi up` (the manager's
    kubeconfig for a worker comes from a token Secret the same run creates there)."""
    platform = two_sites() | {
        "deployment": {"layer": "kubernetes", "cloud_stack": CLOUD_STACK, "sites": ["gpu-a"]}
    }
    message = messages(platform)["deployment.sites"]
    assert message.startswith("MultiKueue connects its manager and workers in one `pulumi up`: list hub too")
    platform["deployment"]["sites"] = ["gpu-a", "hub"]
    assert PlatformSpec.model_validate(platform).deployment.sites == ("gpu-a", "hub")
