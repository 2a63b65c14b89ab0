"""AlicloudNodePool: an ACK managed, auto-scaling node pool with encrypted disks and no public addresses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_alicloud as alicloud

from lepton_infra.components.args import nested, refuse_args
from lepton_infra.validation import TAINT_EFFECTS, Problem, at, at_least, name_length, node_range, one_of


@dataclass(frozen=True)
class NodeTaint:
    """A taint on every node of the pool, so only pods that tolerate it land there."""

    key: str
    """The taint's key, e.g. ``nvidia.com/gpu``."""
    value: str
    """The taint's value."""
    effect: str = "NoSchedule"
    """What the taint does to pods that do not tolerate it: ``NoSchedule``, ``PreferNoSchedule`` or
    ``NoExecute``."""

    def problems(self) -> list[Problem]:
        # A taint's key is a qualified name: a prefix of up to 253 characters, "/", a name of up to 63.
        return [*at("key", name_length(self.key, 1, 317)), *at("effect", one_of(self.effect, TAINT_EFFECTS))]


@dataclass(frozen=True)
class AlicloudNodePoolArgs:
    """The inputs of an AlicloudNodePool."""

    cluster_id: pulumi.Input[str]
    """The ACK cluster the pool belongs to (an AlicloudAckCluster's ``cluster_id``)."""
    vswitch_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """The vSwitches the nodes launch into (an AlicloudNetwork's ``node_vswitch_ids``)."""
    instance_type: str
    """ECS instance type of every node, e.g. ``ecs.g7.xlarge`` or ``ecs.gn7e-c16g1.32xlarge``."""
    min_nodes: int
    """Fewest nodes the autoscaler keeps: 0 lets the pool scale to zero."""
    max_nodes: int
    """Most nodes the autoscaler may add: at least ``min_nodes``."""
    kms_key_id: pulumi.Input[str]
    """The KMS key the system and data disks are encrypted with (an AlicloudKmsKey's ``key_id``)."""
    gpu: bool = False
    """GPU nodes: the autoscaler scales the pool as a GPU pool (ACK installs the driver and device plugin on
    GPU instance types itself)."""
    spot: bool = False
    """Run on preemptible instances, bidding the market price; ACK replaces a node before its instance is
    reclaimed."""
    disk_gib: int = 100
    """Size of each node's system disk in GiB (an ESSD, encrypted with the key)."""
    data_disk_gib: int = 200
    """Size of each node's data disk in GiB (an ESSD, encrypted like the system disk): container images and
    ephemeral storage live there."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Kubernetes labels on every node, e.g. the pool's label that workloads select."""
    taints: Sequence[NodeTaint] = ()
    """Taints on every node, so only pods that tolerate them land there (a GPU pool's)."""
    after: Sequence[pulumi.Resource] = ()
    """What the pool's own resource must wait for, e.g. the cluster's autoscaling configuration (a
    component's ``depends_on`` holds back the component, not the resources inside it)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the pool and the instances it launches."""

    def __post_init__(self) -> None:
        refuse_args(
            self,
            [
                *at("min_nodes", at_least(self.min_nodes, 0, "nodes")),
                *at("max_nodes", at_least(self.max_nodes, 1, "node")),
                *at("min_nodes", node_range(self.min_nodes, self.max_nodes)),
                *at("disk_gib", at_least(self.disk_gib, 1, "GiB")),
                *at("data_disk_gib", at_least(self.data_disk_gib, 1, "GiB")),
                *nested("taints", self.taints, NodeTaint),
            ],
        )


class AlicloudNodePool(pulumi.ComponentResource):
    """Nodes on Alibaba Cloud Linux 3 with containerd in the site's node vSwitches, without public IPs or
    EIPs, with system and data ESSDs encrypted by the site key, instance metadata in hardened (token-only)
    mode, no login key or password, auto-repair, and the autoscaler's range; spot pools bid at the market
    price and replace nodes ahead of reclamation. ACK installs the NVIDIA driver and device plugin on GPU
    instance types itself."""

    node_pool_id: pulumi.Output[str]
    """ID of the node pool, as ACK knows it."""

    def __init__(
        self, name: str, args: AlicloudNodePoolArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("lepton:alicloud:NodePool", name, None, opts)
        pool = alicloud.cs.NodePool(
            f"{name}-pool",
            alicloud.cs.NodePoolArgs(
                cluster_id=args.cluster_id,
                node_pool_name=name,
                vswitch_ids=args.vswitch_ids,
                instance_types=[args.instance_type],
                instance_charge_type="PostPaid",
                spot_strategy="SpotAsPriceGo" if args.spot else "NoSpot",
                spot_instance_remedy=True if args.spot else None,
                image_type="AliyunLinux3",
                runtime_name="containerd",
                system_disk_category="cloud_essd",
                system_disk_size=args.disk_gib,
                system_disk_encrypted=True,
                system_disk_encrypt_algorithm="aes-256",
                system_disk_kms_key=args.kms_key_id,
                data_disks=[
                    alicloud.cs.NodePoolDataDiskArgs(
                        category="cloud_essd",
                        size=args.data_disk_gib,
                        encrypted="true",
                        kms_key_id=args.kms_key_id,
                    )
                ],
                instance_metadata_options=alicloud.cs.NodePoolInstanceMetadataOptionsArgs(
                    http_tokens="required"
                ),
                # With auto scaling on, the autoscaler owns the node count: no desired_size to fight it.
                scaling_config=alicloud.cs.NodePoolScalingConfigArgs(
                    enable=True,
                    min_size=args.min_nodes,
                    max_size=args.max_nodes,
                    type="spot" if args.spot else ("gpu" if args.gpu else "cpu"),
                    is_bond_eip=False,
                ),
                management=alicloud.cs.NodePoolManagementArgs(
                    enable=True, auto_repair=True, auto_upgrade=False, max_unavailable=1
                ),
                labels=[alicloud.cs.NodePoolLabelArgs(key=k, value=v) for k, v in args.labels.items()],
                taints=[
                    alicloud.cs.NodePoolTaintArgs(key=t.key, value=t.value, effect=t.effect)
                    for t in args.taints
                ],
                tags=dict(args.tags),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.after)),
        )
        self.node_pool_id = pool.node_pool_id
        self.register_outputs({"node_pool_id": self.node_pool_id})
