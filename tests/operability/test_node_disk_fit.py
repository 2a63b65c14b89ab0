"""A pod whose ephemeral-storage request is more than its pool's node disk allows is reported, per cloud.

The scheduler places a pod by its ephemeral-storage request against the node's allocatable ephemeral storage,
as it does CPU (https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/
#how-pods-with-ephemeral-storage-requests-are-scheduled): a server whose staged model is larger than a
node's disk allows stays Pending. The allocatable is the disk less what each cloud's kubelet keeps back
(catalog/node_disk.py cites EKS nodeadm's kubeReserved 1Gi and 10% nodefs eviction, AKS (Azure/AKS#930)
and ACK's documented node, both 90% of capacity). Where the plan does not say how large the disk is, the
rule is undecided: no finding. (The spec refuses such a model at `validate` already, on a stricter room:
tests/kubernetes/test_pod_ephemeral_storage.py; the pack guards plans made any other way.)
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from op_fixtures import FIXTURES, operability
from plan_helpers import config_plan, whole_config, whole_plan
from policy_fixtures import load, plan

from lepton_infra.catalog.node_disk import node_ephemeral_mib, smallest_disk_for_ephemeral
from lepton_infra.catalog.types import Cloud
from lepton_infra.plan.loaders import plan_from_json
from lepton_infra.plan.model import Plan
from lepton_infra.policies.operability.pods import EPHEMERAL_STORAGE

RULE = "workload-pods-fit-pool-nodes"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
STAGER = {
    "repository": "lepton/stage",
    "tag": "0.1.0",
    "digest": "sha256:73dc4b6aca775f0603559b5d01e9b826e19b36373344edb007a53a3c35eae082",
}
CLOUD_STACKS = {"aws-dev": Cloud.AWS, "azure-prod": Cloud.AZURE, "alicloud-prod": Cloud.ALICLOUD}


def _disk_findings(plan_: Plan) -> list[str]:
    return [v.message for v in operability(plan_) if v.policy == RULE and EPHEMERAL_STORAGE in v.message]


def _with_custom_staged_model(platform: dict[str, Any], model_disk_gib: int) -> str:
    """The first inference workload serving its own image from a staged model of ``model_disk_gib``."""
    workload = next(w for w in platform["workloads"] if w["kind"] == "inference")
    workload["server"] = {
        "kind": "custom",
        "command": ["python", "-m", "serve"],
        "health_path": "/healthz",
        "metrics_path": "/metrics",
        "staged_model": {"stager_image": STAGER, "model_disk_gib": model_disk_gib},
    }
    return str(workload["name"])


def _oversize(document: dict[str, Any], name: str, gib: int) -> None:
    """The plan as a spec without the platform's own disk check would give it: the staged model's
    emptyDir and every container's ephemeral-storage of workload ``name`` raised to ``gib``."""
    [deployment] = [
        r
        for r in document["resources"]
        if r["type"] == DEPLOYMENT and r["inputs"]["metadata"]["name"] == name
    ]
    spec = deployment["inputs"]["spec"]["template"]["spec"]
    for volume in spec["volumes"]:
        if volume["name"] == "model":
            volume["emptyDir"]["sizeLimit"] = f"{gib}Gi"
    for container in [*spec["containers"], *spec.get("initContainers", [])]:
        for kind in ("requests", "limits"):
            container["resources"][kind][EPHEMERAL_STORAGE] = f"{gib}Gi"


@pytest.mark.parametrize("stack", sorted(CLOUD_STACKS))
def test_a_fitting_staged_model_passes_and_a_larger_one_fails_the_plan(stack: str) -> None:
    platform = copy.deepcopy(whole_config(stack))
    name = _with_custom_staged_model(platform, 100)  # every example pool's disk is 200 GiB
    document = config_plan(platform, stack=stack).to_json()
    assert _disk_findings(plan_from_json(copy.deepcopy(document))) == []
    _oversize(document, name, 1000)
    [message] = _disk_findings(plan_from_json(document))
    room = node_ephemeral_mib(CLOUD_STACKS[stack], 200) / 1024
    assert message.startswith(f"{name}: a pod needs 1000.0 GiB ephemeral-storage for its emptyDirs (model")
    assert f"has {room:.1f} GiB allocatable (its 200 GiB disk" in message
    # The remedy it names is a disk on which the pod fits.
    needed = int(message.rsplit("disk_gib of at least ", 1)[1].rstrip("."))
    assert node_ephemeral_mib(CLOUD_STACKS[stack], needed) >= 1000 * 1024


@pytest.mark.parametrize("stack", sorted(CLOUD_STACKS))
def test_the_example_stacks_pods_fit_their_node_disks(stack: str) -> None:
    assert _disk_findings(whole_plan(stack)) == []


def test_the_smallest_disk_named_is_the_smallest_that_fits() -> None:
    for cloud in Cloud:
        for asked in (1024, 300 * 1024, 12345):
            disk = smallest_disk_for_ephemeral(cloud, asked)
            assert node_ephemeral_mib(cloud, disk) >= asked > node_ephemeral_mib(cloud, disk - 1)


UNKNOWN_NUMBER = "3eeb2bf0-c639-47a8-9e75-3b44932eb421"  # the engine's unknown number (values.UNKNOWN_KINDS)


def _fixture_plan(file: str, resource: str, set_: dict[str, Any], delete: tuple[str, ...] = ()) -> Plan:
    """A fixture with ``set_``/``delete`` applied to ``resource`` and the workload asking for 5000 GiB."""
    data = copy.deepcopy(load(FIXTURES / file))
    by_name = {e["name"]: e for e in data["resources"]}
    workload = by_name["pretrain-job" if "pretrain-job" in by_name else "serve-deploy"]
    resources = workload["inputs"]["spec"]["template"]["spec"]["containers"][0]["resources"]
    for kind in ("requests", "limits"):
        resources.setdefault(kind, {})[EPHEMERAL_STORAGE] = "5000Gi"
    entry = by_name[resource]["inputs"]
    entry.update(set_)
    for key in delete:
        entry.pop(key)
    return plan(data)


@pytest.mark.parametrize(
    ("file", "pool"),
    [
        ("aws.yaml", "l4-ng"),
        ("azure.yaml", "t4-pool"),
        ("alicloud.yaml", "a10-pool"),
        ("aws-karpenter.yaml", "l4-nodeclass"),
    ],
)
def test_an_oversize_request_on_a_known_disk_is_found(file: str, pool: str) -> None:
    """The control of the undecided cases below: the same plans, the disk left as it is, do find."""
    assert _disk_findings(_fixture_plan(file, pool, {}))


@pytest.mark.parametrize(
    ("file", "resource", "set_", "delete"),
    [
        # No diskSize and no launch template: the AMI's or EKS's default, which the plan does not show.
        ("aws.yaml", "l4-ng", {}, ("diskSize",)),
        ("aws.yaml", "l4-ng", {"diskSize": UNKNOWN_NUMBER}, ()),
        ("aws.yaml", "l4-ng", {"diskSize": "[secret]"}, ()),
        # The kubelet on the VM's temp disk, sized by the VM type (Azure/AgentBaker#569).
        ("azure.yaml", "t4-pool", {"kubeletDiskType": "Temporary"}, ()),
        ("azure.yaml", "t4-pool", {}, ("osDiskSizeGB",)),
        ("alicloud.yaml", "a10-pool", {"dataDisks": [{"size": UNKNOWN_NUMBER}]}, ()),
        (
            "aws-karpenter.yaml",
            "l4-nodeclass",
            {"spec": {"amiSelectorTerms": [{"alias": "al2023@latest"}]}},
            (),
        ),
    ],
)
def test_a_disk_the_plan_does_not_show_is_undecided_never_a_finding(
    file: str, resource: str, set_: dict[str, Any], delete: tuple[str, ...]
) -> None:
    assert _disk_findings(_fixture_plan(file, resource, set_, delete)) == []
