"""The cloud facts the operability pack relies on: each reproduces its documented figure and names its
source, and every instance type of the catalog is covered."""

from __future__ import annotations

import re

import pytest

from lepton_infra.catalog import cluster_services, daemonsets, names
from lepton_infra.catalog.allocatable import (
    EKS_ENI_MAX_PODS,
    SOURCES,
    aks_max_pods,
    aks_reserved_cpu_millicores,
    eks_reserved_cpu_millicores,
    node_allocatable,
)
from lepton_infra.catalog.aws import AWS_OFFERINGS
from lepton_infra.catalog.fit import pods_per_node, shortfalls
from lepton_infra.catalog.lookup import find_offering
from lepton_infra.catalog.types import Cloud, Resources

URL = re.compile(r"^https://\S+$")


def _offering(cloud: Cloud, instance_type: str):  # type: ignore[no-untyped-def]
    found = find_offering(cloud, instance_type)
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("instance_type", "cpu", "memory"),
    [
        # Karpenter v1.14 reference/instance-types.md publishes these allocatable figures for EKS.
        ("g6.xlarge", 3920, 14162),
        ("g4dn.xlarge", 3920, 14481),
        ("g5.12xlarge", 47810, 173400),
        ("p4d.24xlarge", 95690, 1082712),
        ("p5.48xlarge", 191450, 1938410),
    ],
)
def test_eks_allocatable_reproduces_karpenters_published_figures(
    instance_type: str, cpu: int, memory: int
) -> None:
    allocatable = node_allocatable(Cloud.AWS, _offering(Cloud.AWS, instance_type))
    assert (allocatable.cpu_millicores, allocatable.memory_mib) == (cpu, memory)


def test_eks_cpu_reservation_follows_nodeadm_ranges() -> None:
    # 6% of the first core, 1% of the second, 0.5% of the next two, 0.25% of the rest.
    assert [eks_reserved_cpu_millicores(n) for n in (1, 2, 4, 8, 96, 192)] == [60, 70, 80, 90, 310, 550]


def test_every_aws_gpu_type_has_its_eni_pod_count() -> None:
    types = {o.instance_type for group in AWS_OFFERINGS.values() for o in group}
    assert types <= set(EKS_ENI_MAX_PODS)


def test_aks_reservations_match_the_documented_table_and_example() -> None:
    assert [aks_reserved_cpu_millicores(c) for c in (1, 2, 4, 8, 16, 32, 64)] == [
        60,
        100,
        140,
        180,
        260,
        420,
        740,
    ]
    assert aks_reserved_cpu_millicores(96) == 1060  # beyond the table: 10m per core
    # "8 GB ... maximum 30 pods ... 20 MB * 30 + 50 MB = 650 MB", plus the 100Mi eviction threshold.
    t4 = node_allocatable(Cloud.AZURE, _offering(Cloud.AZURE, "Standard_NC16as_T4_v3"), max_pods=30)
    assert t4.memory_mib == 110 * 1024 - 650 - 100
    assert (aks_max_pods("azure", "overlay"), aks_max_pods("azure", None), aks_max_pods("kubenet", None)) == (
        250,
        30,
        110,
    )


def test_ack_charges_at_least_the_documented_example_reservation() -> None:
    small = node_allocatable(Cloud.ALICLOUD, _offering(Cloud.ALICLOUD, "ecs.gn6i-c4g1.xlarge"))
    assert small.cpu_millicores == 3900  # the page's 4-vCPU node: 3900m allocatable


def test_every_allocatable_formula_names_its_source() -> None:
    assert set(SOURCES) == set(Cloud) and all(URL.match(s) for s in SOURCES.values())


def test_shortfalls_and_pods_per_node_compare_in_kubernetes_units() -> None:
    room = Resources(1, 3865, 14098)
    assert [s.resource for s in shortfalls(Resources(1, 4000, 16384), room)] == [
        "cpu_millicores",
        "memory_mib",
    ]
    assert shortfalls(Resources(1, 3000, 12288), room) == []
    assert pods_per_node(Resources(1, 1000, 1024), Resources(8, 191450, 1938410)) == 8
    assert pods_per_node(Resources(0, 0, 0), room, max_pods=58) == 58


def test_daemonset_footprints_cite_their_charts_and_tolerate_what_the_charts_do() -> None:
    for footprint in (*daemonsets.CHART_DAEMONS["gpu-operator"], *daemonsets.CLOUD_DAEMONS[Cloud.AWS]):
        assert URL.match(footprint.source)
    assert daemonsets.NFD_WORKER.requests == Resources(0, 5, 64)
    assert daemonsets.GPU_TOLERATION in daemonsets.NFD_WORKER.default_tolerations
    assert daemonsets.chart_name("oci://public.ecr.aws/karpenter/karpenter") == "karpenter"


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
