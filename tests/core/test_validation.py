"""The shared checks: one owner for each rule, used by the blueprint and the components alike."""

from __future__ import annotations

import ipaddress
import subprocess
import sys
from collections.abc import Callable

import pytest
from plan_helpers import ROOT

from lepton_infra import validation
from lepton_infra.components.alicloud.node_pool import AlicloudNodePoolArgs
from lepton_infra.components.aws.cluster import AwsEksClusterArgs
from lepton_infra.components.aws.node_group import AwsManagedNodeGroupArgs
from lepton_infra.components.azure.cluster import AzureAksClusterArgs
from lepton_infra.components.azure.node_pool import AzureGpuNodePoolArgs, AzureNodePoolArgs


@pytest.mark.parametrize("cloud", ["aws", "azure", "alicloud"])
def test_a_clouds_components_import_without_the_blueprint(cloud: str) -> None:
    """Components check their inputs through lepton_infra.validation, never through the pydantic spec."""
    probe = f"import sys, lepton_infra.components.{cloud}; print('lepton_infra.blueprint' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def test_an_empty_node_range_is_one_problem_and_a_component_refuses_it() -> None:
    assert validation.node_range(0, 4) == []
    assert validation.node_range(5, 2) == ["min_nodes (5) must not exceed max_nodes (2)"]
    with pytest.raises(ValueError, match=r"^min_nodes \(5\) must not exceed max_nodes \(2\)$"):
        validation.check_node_range(5, 2)


@pytest.mark.parametrize(
    "make",
    [
        lambda: AwsManagedNodeGroupArgs(
            cluster_name="c", kubernetes_version="1.33", node_role_arn="r", subnet_ids=[],
            instance_type="m7i.xlarge", min_nodes=3, max_nodes=1, kms_key_arn="k",
        ),
        lambda: AlicloudNodePoolArgs(
            cluster_id="c", vswitch_ids=[], instance_type="ecs.g7.xlarge", min_nodes=3, max_nodes=1,
            kms_key_id="k",
        ),
        lambda: AzureNodePoolArgs(
            vm_size="Standard_D4ds_v5", min_nodes=3, max_nodes=1, kubernetes_version="1.33", subnet_id="s"
        ),
    ],
    ids=["aws", "alicloud", "azure"],
)  # fmt: skip
def test_every_node_pool_component_refuses_an_empty_range_with_the_shared_sentence(
    make: Callable[[], object],
) -> None:
    with pytest.raises(validation.InvalidInput, match=r"min_nodes \(3\) must not exceed max_nodes \(1\)"):
        make()


@pytest.mark.parametrize(
    ("cidr", "fragments"),
    [
        ("10.20.0.0/16", []),
        ("100.64.0.0/18", []),
        ("8.8.0.0/16", ["not a private range"]),
        ("10.0.0.0/24", ["between /16 and /20"]),
        ("8.8.0.0/24", ["not a private range", "between /16 and /20"]),
        ("10.0.0.1/16", ["not a network in CIDR notation"]),
        ("fd00::/16", ["not a private range"]),
    ],
)
def test_a_site_network_is_private_and_sized(cidr: str, fragments: list[str]) -> None:
    problems = validation.network_cidr(cidr)
    assert len(problems) == len(fragments)
    for problem, fragment in zip(problems, fragments, strict=True):
        assert fragment in problem


def test_an_api_allowlist_names_networks_never_everyone() -> None:
    assert validation.api_allowlist(["203.0.113.0/24", ipaddress.IPv4Network("198.51.100.0/24")]) == []
    problems = validation.api_allowlist(["0.0.0.0/0", "::/0", "not-a-cidr"])
    assert "'not-a-cidr' is not a network" in problems[0]
    assert "covers every IPv4 address (open to the whole internet)" in problems[1]


def test_both_cluster_components_refuse_an_open_allowlist_with_the_blueprints_sentence() -> None:
    refused = r"^invalid \w+Args: api_allowlist: 0\.0\.0\.0/0 covers every IPv4 address"
    with pytest.raises(ValueError, match=refused):
        AwsEksClusterArgs(
            cluster_name="c", kubernetes_version="1.33", subnet_ids=[], kms_key_arn="k",
            api_allowlist=["0.0.0.0/0"],
        )  # fmt: skip
    pool = AzureNodePoolArgs(
        vm_size="Standard_D4ds_v5", min_nodes=1, max_nodes=2, kubernetes_version="1.33", subnet_id="s"
    )
    with pytest.raises(ValueError, match=refused):
        AzureAksClusterArgs(
            cluster_name="c", resource_group_name="g", location="westeurope", subscription_id="s",
            tenant_id="t", kubernetes_version="1.33", node_subnet_id="n", api_server_subnet_id="a",
            vault_id="v", key_id="k", key_uri_with_version="u", disk_encryption_set_id="d",
            admin_group_object_ids=["00000000-0000-0000-0000-000000000000"], system_pool=pool,
            api_allowlist=["0.0.0.0/0"],
        )  # fmt: skip


def test_overlapping_ranges_are_blamed_on_the_later_name() -> None:
    ranges = {
        "network": ipaddress.IPv4Network("10.0.0.0/16"),
        "pods": ipaddress.IPv4Network("10.244.0.0/16"),
        "services": ipaddress.IPv4Network("10.0.128.0/20"),
    }
    assert validation.overlapping_ranges(ranges) == [
        validation.Problem("services", "10.0.128.0/20 overlaps network (10.0.0.0/16)")
    ]


@pytest.mark.parametrize(
    ("name", "ok"),
    [("gpu", True), ("h100x8", True), ("a" * 24, True), ("a" * 25, False), ("-a", False), ("A", False)],
)
def test_dns_labels(name: str, ok: bool) -> None:
    assert (validation.dns_label(name) == []) is ok


def test_an_aks_pool_component_refuses_a_name_aks_would_refuse() -> None:
    pool = AzureNodePoolArgs(
        vm_size="Standard_NC24ads_A100_v4", min_nodes=0, max_nodes=2, kubernetes_version="1.33", subnet_id="s"
    )
    assert validation.aks_pool_name("a100") == []
    refused = r"^invalid AzureGpuNodePoolArgs: pool_name: 'a100-pool': AKS pool names are 1-12"
    with pytest.raises(ValueError, match=refused):
        AzureGpuNodePoolArgs(resource_group_name="g", cluster_name="c", pool_name="a100-pool", pool=pool)


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    with pytest.raises(validation.InvalidInput) as raised:
        validation.refuse([*validation.at("a", ["first"]), *validation.at("b", ["second"]), "third"])
    assert raised.value.problems == (
        validation.Problem("a", "first"),
        validation.Problem("b", "second"),
        validation.Problem("", "third"),
    )
    assert str(raised.value) == "a: first; b: second; third"
    validation.refuse([])  # nothing found, nothing raised
