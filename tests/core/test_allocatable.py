"""What a node gives its pods, per cloud, against the figures each cloud publishes; and the one fit check.

Issue 12 item 5: the fit check compared pods with a node's capacity, so aws-dev's 4 CPU / 16 GiB trainer
passed on a g6.xlarge (4 vCPU / 16 GiB), where it can never be scheduled.
"""

from __future__ import annotations

import pytest

from lepton_infra.catalog import (
    Accelerator,
    Cloud,
    InitContainer,
    InstanceOffering,
    PodRequest,
    Resources,
    find_offering,
    fits,
    gpu_node_daemons,
    node_figures,
    node_room,
    per_gpu_share,
)
from lepton_infra.catalog.allocatable import (
    ack_kubelet_reservation,
    ack_node,
    ack_reserved,
    aks_node,
    aks_reserved_cpu_millicores,
)
from lepton_infra.catalog.daemonsets import CHART_DAEMONS, CLOUD_DAEMONS, GPU_NODE_CHARTS
from lepton_infra.catalog.lookup import _TABLES

EVERY_TYPE = [(cloud, o) for cloud, table in _TABLES.items() for group in table.values() for o in group]

# Karpenter's published allocatable per type (cpu, memory, pods): website/content/en/v1.14/reference/
# instance-types.md of aws/karpenter-provider-aws @ 1d927085 (https://karpenter.sh/v1.14/reference/instance-types/),
# the "Resources" table of each type. Karpenter computes them with nodeadm's formulas.
KARPENTER_V1_14 = {
    "g4dn.xlarge": ("3920m", "14481Mi", 29),
    "g4dn.2xlarge": ("7910m", "29636Mi", 29),
    "g4dn.4xlarge": ("15890m", "59946Mi", 29),
    "g4dn.12xlarge": ("47810m", "178933Mi", 234),
    "g4dn.metal": ("95690m", "355262Mi", 737),
    "g5.xlarge": ("3920m", "14162Mi", 58),
    "g5.2xlarge": ("7910m", "29317Mi", 58),
    "g5.4xlarge": ("15890m", "57691Mi", 234),
    "g5.12xlarge": ("47810m", "173400Mi", 737),
    "g5.24xlarge": ("95690m", "355262Mi", 737),
    "g5.48xlarge": ("191450m", "723299Mi", 345),
    "g6.xlarge": ("3920m", "14162Mi", 58),
    "g6.2xlarge": ("7910m", "29317Mi", 58),
    "g6.4xlarge": ("15890m", "57691Mi", 234),
    "g6.12xlarge": ("47810m", "178933Mi", 234),
    "g6.24xlarge": ("95690m", "355262Mi", 737),
    "g6.48xlarge": ("191450m", "718987Mi", 737),
    "g6e.xlarge": ("3920m", "29317Mi", 58),
    "g6e.2xlarge": ("7910m", "59627Mi", 58),
    "g6e.4xlarge": ("15890m", "118312Mi", 234),
    "g6e.12xlarge": ("47810m", "360157Mi", 292),
    "g6e.24xlarge": ("95690m", "721682Mi", 492),
    "g6e.48xlarge": ("191450m", "1449132Mi", 492),
    "p4d.24xlarge": ("95690m", "1082712Mi", 737),
    "p4de.24xlarge": ("95690m", "1082712Mi", 737),
    "p5.4xlarge": ("15890m", "240830Mi", 118),
    "p5.48xlarge": ("191450m", "1938410Mi", 100),
}
AWS_TYPES = [o for cloud, o in EVERY_TYPE if cloud is Cloud.AWS]


def test_every_aws_type_of_the_catalog_has_a_published_figure_to_check() -> None:
    assert {o.instance_type for o in AWS_TYPES} == set(KARPENTER_V1_14)


@pytest.mark.parametrize("offering", AWS_TYPES, ids=lambda o: o.instance_type)
def test_eks_allocatable_is_karpenters_published_figure(offering: InstanceOffering) -> None:
    cpu, memory, pods = KARPENTER_V1_14[offering.instance_type]
    node = node_figures(Cloud.AWS, offering)
    assert f"{node.allocatable.cpu_millicores}m" == cpu
    assert f"{node.allocatable.memory_mib}Mi" == memory
    assert node.max_pods == pods
    assert node.allocatable.gpus == offering.gpus


def test_a_g6_xlarge_keeps_back_what_nodeadm_reserves() -> None:
    # nodeadm: 80m of 4 vCPUs; 11 x 58 pods + 255 = 893 MiB; eviction at 100Mi. Issue 12 item 5's figures.
    g6 = find_offering(Cloud.AWS, "g6.xlarge")
    assert g6 is not None
    node = node_figures(Cloud.AWS, g6)
    assert node.kube_reserved == Resources(0, 80, 893)
    assert node.eviction_memory_mib == 100
    assert node.allocatable.cpu_millicores == 3920
    assert round(node.allocatable.memory_mib / 1024, 1) == 13.8


# "Node resource reservations in AKS" (learn.microsoft.com/azure/aks/node-resource-reservations): its table.
@pytest.mark.parametrize(
    ("cores", "millicores"), [(1, 60), (2, 100), (4, 140), (8, 180), (16, 260), (32, 420), (64, 740)]
)
def test_aks_reserves_the_documented_cpu(cores: int, millicores: int) -> None:
    assert aks_reserved_cpu_millicores(cores) == millicores


def test_aks_cpu_between_and_beyond_the_table_grows_with_the_cores() -> None:
    reserved = [aks_reserved_cpu_millicores(c) for c in range(1, 129)]
    assert reserved == sorted(reserved)
    assert aks_reserved_cpu_millicores(24) == 340  # halfway between 16 (260) and 32 (420)
    assert aks_reserved_cpu_millicores(96) == 1060  # 10m a core past 64


def _vm(memory_gib: int, vcpus: int = 8) -> InstanceOffering:
    return InstanceOffering("test", Accelerator.T4, 1, 16, vcpus, memory_gib, "test")


def test_aks_memory_is_the_documented_lesser_of_pods_and_a_quarter() -> None:
    # The page's examples: 8 GB and 30 pods reserve 20 MB x 30 + 50 MB = 650 MB; 4 GB and 70 pods reserve
    # 25% of the memory, less than 20 x 70 + 50.
    assert aks_node(_vm(8), max_pods=30).kube_reserved.memory_mib == 650
    small = aks_node(_vm(4), max_pods=70)
    assert small.kube_reserved.memory_mib == small.capacity.memory_mib // 4
    # The sites' Azure CNI Overlay gives 250 pods a node.
    assert aks_node(_vm(440)).kube_reserved.memory_mib == 20 * 250 + 50


def test_ack_reservation_is_set_explicitly_and_comparable_to_acks_own_example() -> None:
    # ACK's "Resource reservation policy": a 4-vCPU node of 7925980Ki reports 3900m / 5824732Ki allocatable.
    example = _vm(8, vcpus=4)
    assert ack_reserved(example) == Resources(0, 80, 1843)
    ours = ack_node(example).allocatable
    acks = 5824732 // 1024
    assert ours.memory_mib <= acks  # never more room than ACK's own default leaves
    assert ours.memory_mib > acks * 0.95
    halves = ack_kubelet_reservation(example)
    assert halves.kube_reserved == {"cpu": "40m", "memory": "921Mi"}
    assert halves.system_reserved == {"cpu": "40m", "memory": "922Mi"}


@pytest.mark.parametrize(("cloud", "offering"), EVERY_TYPE, ids=lambda v: getattr(v, "instance_type", v))
def test_every_type_leaves_most_of_itself_to_pods(cloud: Cloud, offering: InstanceOffering) -> None:
    room = node_room(cloud, offering)
    assert room.gpus == offering.gpus
    assert 0.8 * offering.vcpus * 1000 < room.cpu_millicores < offering.vcpus * 1000
    # The smallest (gn6i-c4g1.xlarge: 15 GiB) loses most to fixed costs: 1 GiB of estimated ACK agents.
    assert 0.65 * offering.memory_gib * 1024 < room.memory_mib < offering.memory_gib * 1024


def test_every_daemonset_figure_names_its_source() -> None:
    daemons = [d for group in (*CLOUD_DAEMONS.values(), *CHART_DAEMONS.values()) for d in group]
    assert all(d.source.startswith("https://") for d in daemons)
    assert all(chart in CHART_DAEMONS for charts in GPU_NODE_CHARTS.values() for chart in charts)
    # The GPU Operator's node-feature-discovery worker requests 5m / 64Mi (chart v25.10.1).
    assert any(d.requests == Resources(0, 5, 64) for d in gpu_node_daemons(Cloud.AWS))


def test_the_room_is_allocatable_less_the_daemonsets_on_a_gpu_node() -> None:
    g6 = find_offering(Cloud.AWS, "g6.xlarge")
    assert g6 is not None
    assert node_room(Cloud.AWS, g6) == Resources(1, 3920 - 165, 14162 - 84)


# --- the fit check -------------------------------------------------------------------------------------


def test_the_old_aws_dev_trainer_does_not_fit_a_g6_xlarge() -> None:
    g6 = find_offering(Cloud.AWS, "g6.xlarge")
    assert g6 is not None
    room = node_room(Cloud.AWS, g6)
    short = fits(Resources(1, 4000, 16384), room)
    assert [s.resource for s in short] == ["cpu_millicores", "memory_mib"]
    assert str(short[0]) == "4000m CPU is more than a node has for pods (3755m)"
    assert fits(Resources(1, 3000, 13 * 1024), room) == []


def test_a_pods_request_counts_sidecars_and_its_largest_init_container() -> None:
    # https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/#resource-sharing-within-containers
    pod = PodRequest(
        containers=(Resources(1, 1000, 1024), Resources(0, 500, 512)),
        init_containers=(
            InitContainer(Resources(0, 200, 256), sidecar=True),
            InitContainer(Resources(0, 3000, 256)),  # runs beside the first sidecar only
        ),
    )
    assert pod.effective() == Resources(1, 3200, 1792)


def test_a_memory_backed_dev_shm_counts_in_the_pods_memory() -> None:
    # "files you write count against your container's memory limit":
    # https://kubernetes.io/docs/concepts/storage/volumes/#emptydir
    pod = PodRequest(containers=(Resources(1, 1000, 4096),), memory_volumes_mib=8192)
    assert pod.effective().memory_mib == 8192
    assert [s.resource for s in fits(pod, Resources(1, 4000, 6144))] == ["memory_mib"]


# --- per-GPU shares --------------------------------------------------------------------------------------


def test_an_eight_gpu_trainer_gets_most_of_a_p5_48xlarge() -> None:
    p5 = find_offering(Cloud.AWS, "p5.48xlarge")
    assert p5 is not None
    room = node_room(Cloud.AWS, p5)
    share = per_gpu_share(room, p5.gpus, 8)
    # Issue 12 item 10: it got 4 CPUs and 16 GiB of the node's 192 vCPUs and 2 TiB.
    assert share.cpu_millicores >= 0.99 * p5.vcpus * 1000
    assert share.memory_mib >= 0.9 * p5.memory_gib * 1024
    assert fits(share, room) == []


@pytest.mark.parametrize(("cloud", "offering"), EVERY_TYPE, ids=lambda v: getattr(v, "instance_type", v))
def test_pods_sized_by_their_gpus_fill_a_node_together(cloud: Cloud, offering: InstanceOffering) -> None:
    room = node_room(cloud, offering)
    for gpus in range(1, offering.gpus + 1):
        share = per_gpu_share(room, offering.gpus, gpus)
        assert share.cpu_millicores % 1000 == 0 and share.memory_mib % 1024 == 0
        pods = offering.gpus // gpus
        together = Resources(pods * gpus, pods * share.cpu_millicores, pods * share.memory_mib)
        assert fits(together, room) == []


def test_a_pod_cannot_take_a_share_of_more_gpus_than_its_node_has() -> None:
    with pytest.raises(ValueError, match="node with 1"):
        per_gpu_share(Resources(1, 4000, 16384), 1, 2)
