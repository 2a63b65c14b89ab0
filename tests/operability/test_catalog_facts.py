"""The cloud facts the operability pack relies on beyond a node's allocatable (tests/core/test_allocatable.py
has those): each names its source and holds at its documented limit."""

from __future__ import annotations

import re

import pytest

from lepton_infra.catalog import cluster_services, names
from lepton_infra.catalog.allocatable import aks_default_max_pods
from lepton_infra.catalog.fit import pods_per_node
from lepton_infra.catalog.types import Cloud, Resources

URL = re.compile(r"^https://\S+$")


def test_aks_nodes_of_other_network_plugins_get_their_documented_pod_limit() -> None:
    assert aks_default_max_pods("azure", "overlay") == 250
    assert aks_default_max_pods("azure", None) == 30  # Azure CNI with node-subnet networking
    assert aks_default_max_pods("kubenet", None) == 110


def test_pods_per_node_counts_copies_of_a_pod_in_kubernetes_units() -> None:
    assert pods_per_node(Resources(1, 1000, 1024), Resources(8, 191450, 1938410)) == 8
    assert pods_per_node(Resources(0, 2000, 1024), Resources(0, 7910, 29317)) == 3
    assert pods_per_node(Resources(0, 0, 0), Resources(1, 3865, 14098), max_pods=58) == 58


def test_every_cluster_service_fact_names_its_source() -> None:
    facts = [v for v in vars(cluster_services).values() if isinstance(v, cluster_services.Fact)]
    facts += [
        f
        for d in vars(cluster_services).values()
        if isinstance(d, dict)
        for f in d.values()
        if isinstance(f, cluster_services.Fact)
    ]
    assert len(facts) > 10 and all(URL.match(f.source) and f.statement for f in facts)


@pytest.mark.parametrize(
    ("image", "cloud"),
    [
        ("123456789012.dkr.ecr.us-west-2.amazonaws.com/lepton/train:0.1.0", Cloud.AWS),
        ("leptonazureweuregistryef11a3.azurecr.io/lepton/serve:0.1.0", Cloud.AZURE),
        ("lepton-ali-hz-registry-vpc.cn-hangzhou.cr.aliyuncs.com/lepton/serve:0.1.0", Cloud.ALICLOUD),
    ],
)
def test_registry_patterns_recognise_each_clouds_private_registry(image: str, cloud: Cloud) -> None:
    patterns = {
        Cloud.AWS: cluster_services.ECR_HOST,
        Cloud.AZURE: cluster_services.ACR_HOST,
        Cloud.ALICLOUD: cluster_services.ACR_EE_HOST,
    }
    assert [c for c, p in patterns.items() if re.match(p, image)] == [cloud]
    assert not re.match(patterns[cloud], "nvcr.io/nvidia/gpu-operator:v25.10.1")


@pytest.mark.parametrize(
    ("resource_type", "good", "bad", "problem"),
    [
        ("aws:iam/role:Role", "a" * 64, "a" * 65, "65 characters, more than the 64 allowed"),
        ("aws:eks/nodeGroup:NodeGroup", "n" * 63, "n" * 64, "more than the 63 allowed"),
        ("azure-native:containerservice:AgentPool", "t4spot", "T4spot", "characters outside"),
        ("azure-native:containerregistry:Registry", "leptonacr1", "acr", "outside 5-50"),
        ("azure-native:storage:StorageAccount", "leptonartifacts", "lepton-artifacts", "characters outside"),
        ("alicloud:oss/bucket:Bucket", "lepton-artifacts", "ab", "outside 3-63"),
        ("alicloud:cs/nodePool:NodePool", "lepton-a100", "p" * 64, "more than the 63 allowed"),
        ("kubernetes:core/v1:Service", "serve", "1serve", "characters outside"),
        ("kubernetes:batch/v1:Job", "j" * 63, "j" * 64, "more than the 63 allowed"),
        ("kubernetes:batch/v1:CronJob", "c" * 52, "c" * 53, "more than the 52 allowed"),
        ("kubernetes:apps/v1:Deployment", "d" * 253, "d" * 254, "more than the 253 allowed"),
    ],
)
def test_name_rules_accept_the_limit_and_refuse_one_past_it(
    resource_type: str, good: str, bad: str, problem: str
) -> None:
    rule = names.name_rule(resource_type)
    assert rule is not None and URL.match(rule.source)
    assert rule.problems(good) == []
    assert any(problem in p for p in rule.problems(bad))


def test_auto_names_count_pulumis_suffix() -> None:
    role = names.name_rule("aws:iam/role:Role")
    pool = names.name_rule("azure-native:containerservice:AgentPool")
    pod = names.name_rule("kubernetes:core/v1:Pod")
    assert role is not None and pool is not None and pod is not None
    assert len(role.auto_name("r" * 56)) == 64 and role.problems(role.auto_name("r" * 57))
    assert len(pool.auto_name("gpu")) == 11  # azure-native: 8 hex digits, no separator
    assert len(pod.auto_name("p")) == 10  # pulumi-kubernetes: "-" + 8 characters
