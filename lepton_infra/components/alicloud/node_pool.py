"""AlicloudNodePool: an ACK managed, auto-scaling node pool with encrypted disks and no public addresses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_alicloud as alicloud

from lepton_infra.validation import check_node_range


@dataclass(frozen=True)
class NodeTaint:
    key: str
    value: str
    effect: str = "NoSchedule"


@dataclass(frozen=True)
class AlicloudNodePoolArgs:
    cluster_id: pulumi.Input[str]
    vswitch_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    instance_type: str
    min_nodes: int
    max_nodes: int
    kms_key_id: pulumi.Input[str]
    gpu: bool = False
    spot: bool = False
    disk_gib: int = 100
    # Container images and ephemeral storage live on a data disk, encrypted like the system disk.
    data_disk_gib: int = 200
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: Sequence[NodeTaint] = ()
    # What the pool's own resource must wait for, e.g. the cluster's autoscaling configuration (a
    # component's depends_on holds back the component, not the resources inside it).
    after: Sequence[pulumi.Resource] = ()
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_node_range(self.min_nodes, self.max_nodes)


class AlicloudNodePool(pulumi.ComponentResource):
    """Nodes on Alibaba Cloud Linux 3 with containerd in the site's node vSwitches, without public IPs or
    EIPs, with system and data ESSDs encrypted by the site key, instance metadata in hardened (token-only)
    mode, no login key or password, auto-repair, and the autoscaler's range; spot pools bid at the market
    price and replace nodes ahead of reclamation. ACK installs the NVIDIA driver and device plugin on GPU
    instance types itself."""

    node_pool_id: pulumi.Output[str]

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
