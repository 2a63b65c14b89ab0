"""Karpenter's view of one GPU pool: an EC2NodeClass (how its nodes are launched) and a NodePool (what it may
launch, how nodes are labelled and tainted, how many, and when they go away), as plain data.

Both validate against the v1.14.1 CRDs (vendored under ``tests/schemas/karpenter``). Protections:
- nodes as hardened as the managed node groups: IMDSv2 at hop limit 1, no public address, a gp3 root volume
  encrypted with the site key (the controller's role may use the key only through EC2, ``karpenter.py``);
- the pool's labels and the GPU taint on every node, so pods land there as on any other cloud;
- ``limits`` on GPUs (the spec's max_nodes; Karpenter counts no nodes in a dynamic NodePool);
- nodes go when empty, never while a job runs: consolidation only of empty nodes, no expiry, and a drift
  budget of zero (a new AMI reaches a pool as its nodes empty out and new ones launch).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from lepton_infra.components.aws.efa import NetworkInterface
from lepton_infra.components.gpu_nodes import GPU_RESOURCE, GPU_TAINT_EFFECT, GPU_TAINT_KEY, GPU_TAINT_VALUE
from lepton_infra.components.services import CustomObject

NODE_POOL_API = "karpenter.sh/v1"
NODE_CLASS_API = "karpenter.k8s.aws/v1"
# The root device of EKS-optimized AL2023 AMIs.
ROOT_DEVICE = "/dev/xvda"
# Empty GPU nodes cost the most of any: let them go soon, but not between two pods of one rollout.
EMPTY_NODE_GRACE = "10m"


@dataclass(frozen=True)
class KarpenterNodes:
    """What every pool of a site launches its nodes with."""

    # The IAM role (name, not ARN) of Karpenter's nodes; Karpenter makes their instance profile.
    node_role_name: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    # An EKS-optimized AMI alias such as ``al2023@latest``: Karpenter picks the NVIDIA variant for GPU types.
    ami_alias: str
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class KarpenterPool:
    """One GPU pool as Karpenter launches it."""

    name: str
    instance_type: str
    # "spot", "on-demand" or "reserved" (capacity reservations and Capacity Blocks only).
    capacity_type: str
    labels: Mapping[str, str]
    # Nodes Karpenter may add (the pool's max_nodes less any baseline a managed node group keeps).
    max_nodes: int
    gpus_per_node: int
    disk_gib: int
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    security_group_ids: Sequence[pulumi.Input[str]]
    network_interfaces: Sequence[NetworkInterface] = ()
    placement_group_name: pulumi.Input[str] | None = None
    capacity_reservation_ids: Sequence[str] = ()


def node_class(pool: KarpenterPool, nodes: KarpenterNodes) -> CustomObject:
    """The pool's EC2NodeClass."""
    spec: dict[str, Any] = {
        "role": nodes.node_role_name,
        "amiSelectorTerms": [{"alias": nodes.ami_alias}],
        "subnetSelectorTerms": pulumi.Output.from_input(pool.subnet_ids).apply(
            lambda ids: [{"id": subnet} for subnet in ids]
        ),
        "securityGroupSelectorTerms": [{"id": group} for group in pool.security_group_ids],
        "associatePublicIPAddress": False,
        "metadataOptions": {
            "httpEndpoint": "enabled",
            "httpProtocolIPv6": "disabled",
            "httpPutResponseHopLimit": 1,
            "httpTokens": "required",
        },
        "blockDeviceMappings": [
            {
                "deviceName": ROOT_DEVICE,
                "rootVolume": True,
                "ebs": {
                    "volumeSize": f"{pool.disk_gib}Gi",
                    "volumeType": "gp3",
                    "encrypted": True,
                    "kmsKeyID": nodes.kms_key_arn,
                    "deleteOnTermination": True,
                },
            }
        ],
        "tags": dict(nodes.tags),
    }
    if pool.network_interfaces:
        spec["networkInterfaces"] = [
            {"networkCardIndex": nic.network_card, "deviceIndex": nic.device, "interfaceType": nic.kind}
            for nic in pool.network_interfaces
        ]
    if pool.placement_group_name is not None:
        spec["placementGroupSelector"] = {"name": pool.placement_group_name}
    if pool.capacity_reservation_ids:
        spec["capacityReservationSelectorTerms"] = [{"id": cr} for cr in pool.capacity_reservation_ids]
    return CustomObject(api_version=NODE_CLASS_API, kind="EC2NodeClass", name=pool.name, spec=spec)


def node_pool(pool: KarpenterPool) -> CustomObject:
    """The pool's NodePool, launching only its instance type and capacity type, into its EC2NodeClass."""
    spec = {
        "template": {
            "metadata": {"labels": dict(pool.labels)},
            "spec": {
                "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": pool.name},
                "requirements": [
                    {
                        "key": "node.kubernetes.io/instance-type",
                        "operator": "In",
                        "values": [pool.instance_type],
                    },
                    {"key": "karpenter.sh/capacity-type", "operator": "In", "values": [pool.capacity_type]},
                ],
                "taints": [{"key": GPU_TAINT_KEY, "value": GPU_TAINT_VALUE, "effect": GPU_TAINT_EFFECT}],
                # A training job runs for days: no node is replaced because of its age.
                "expireAfter": "Never",
            },
        },
        "limits": {GPU_RESOURCE: pool.max_nodes * pool.gpus_per_node},
        "disruption": {
            "consolidationPolicy": "WhenEmpty",
            "consolidateAfter": EMPTY_NODE_GRACE,
            "budgets": [{"nodes": "0", "reasons": ["Drifted"]}, {"nodes": "10%"}],
        },
    }
    return CustomObject(api_version=NODE_POOL_API, kind="NodePool", name=pool.name, spec=spec)
