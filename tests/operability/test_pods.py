"""What the scheduler sees of a pod, computed as Kubernetes computes it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lepton_infra.catalog.types import Resources
from lepton_infra.policies.operability.pods import (
    Taint,
    mebibytes,
    millicores,
    pins_zone,
    pod_request,
    quantity,
    selects,
    tolerates,
    untolerated,
)

GPU_TAINT = Taint("nvidia.com/gpu", "present", "NoSchedule")
SPOT_TAINT = Taint("kubernetes.azure.com/scalesetpriority", "spot", "NoSchedule")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("4000m", Decimal(4)),
        ("0.5", Decimal("0.5")),
        (8.0, Decimal(8)),
        ("16Gi", Decimal(16 * 2**30)),
        ("1G", Decimal(10**9)),
    ],
)
def test_quantities_parse_as_kubernetes_reads_them(value: object, expected: Decimal) -> None:
    assert quantity(value) == expected


def test_unknown_or_malformed_quantities_are_not_numbers() -> None:
    assert quantity("04da6b54-80e4-46f7-96ec-b56ff0331ba9") is None and quantity("lots") is None
    assert millicores("250m") == 250 and mebibytes("1G") == 954


def _container(
    cpu: str, memory: str, *, limits_only: bool = False, sidecar: bool = False
) -> dict[str, object]:
    resources = {"limits": {"cpu": cpu, "memory": memory}}
    if not limits_only:
        resources["requests"] = {"cpu": cpu, "memory": memory}
    container: dict[str, object] = {"name": "c", "resources": resources}
    if sidecar:
        container["restartPolicy"] = "Always"
    return container


def test_a_request_defaults_to_the_limit() -> None:
    assert pod_request({"containers": [_container("2", "4Gi", limits_only=True)]}) == Resources(0, 2000, 4096)


def test_init_containers_count_at_their_peak_and_sidecars_for_the_pods_life() -> None:
    spec = {
        "initContainers": [_container("1", "1Gi", sidecar=True), _container("6", "2Gi")],
        "containers": [_container("2", "8Gi"), _container("1", "1Gi")],
    }
    # App 3 CPU + sidecar 1 = 4; the init container 6 + the sidecar started before it 1 = 7.
    assert pod_request(spec) == Resources(0, 7000, 10240)


def test_memory_backed_volumes_count_toward_the_memory_a_pod_needs() -> None:
    spec = {
        "containers": [_container("1", "8Gi")],
        "volumes": [
            {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "12Gi"}},
            {"name": "tmp", "emptyDir": {"sizeLimit": "50Gi"}},
        ],
    }
    assert pod_request(spec).memory_mib == 12 * 1024


def test_tolerations_match_as_the_scheduler_matches_them() -> None:
    assert tolerates([{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}], GPU_TAINT)
    assert tolerates([{"key": "nvidia.com/gpu", "value": "present"}], GPU_TAINT)  # Equal, any effect
    assert not tolerates([{"key": "nvidia.com/gpu", "value": "absent"}], GPU_TAINT)
    assert not tolerates([{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoExecute"}], GPU_TAINT)
    assert tolerates([{"operator": "Exists"}], SPOT_TAINT)
    assert untolerated([{"key": "nvidia.com/gpu", "operator": "Exists"}], [GPU_TAINT, SPOT_TAINT]) == [
        SPOT_TAINT
    ]
    assert untolerated([], [Taint("soft", None, "PreferNoSchedule")]) == []


def test_taints_read_from_every_clouds_shape() -> None:
    assert Taint.of("kubernetes.azure.com/scalesetpriority=spot:NoSchedule") == SPOT_TAINT
    assert Taint.of({"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}) == GPU_TAINT
    assert str(GPU_TAINT) == "nvidia.com/gpu=present:NoSchedule"


def test_selectors_match_declared_labels_and_accept_labels_only_the_cloud_knows() -> None:
    labels = {"lepton.ai/pool": "l4", "topology.kubernetes.io/zone": None}
    assert selects({"nodeSelector": {"lepton.ai/pool": "l4"}}, labels)
    assert not selects({"nodeSelector": {"lepton.ai/pool": "h100"}}, labels)
    assert selects({"nodeSelector": {"topology.kubernetes.io/zone": "us-west-2a"}}, labels)
    affinity = {
        "nodeSelectorTerms": [
            {"matchExpressions": [{"key": "lepton.ai/pool", "operator": "In", "values": ["h100"]}]},
            {"matchExpressions": [{"key": "gpu", "operator": "DoesNotExist"}]},
        ]
    }
    assert selects(
        {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": affinity}}}, labels
    )


def test_a_job_pinned_to_one_zone_is_recognised() -> None:
    assert pins_zone({"nodeSelector": {"topology.kubernetes.io/zone": "us-west-2a"}})
    term = {"topologyKey": "topology.kubernetes.io/zone", "labelSelector": {}}
    assert pins_zone(
        {"affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}}
    )
    assert not pins_zone({})
