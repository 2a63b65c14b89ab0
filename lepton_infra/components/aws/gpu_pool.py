"""AwsGpuPool: one GPU pool of an EKS site, grown from zero by Karpenter.

Why Karpenter for every GPU pool, and when a managed node group is added:
- from zero: Karpenter launches a node when a pod is pending and removes it once empty; it reads the pool's
  labels, taint, GPUs and EFA devices from its NodePool and the instance type, where Cluster Autoscaler would
  need ASG node-template tags that EKS never copies from a managed node group (aws/containers-roadmap#608);
- spot: Karpenter drains a node on EC2's interruption warning (its SQS queue, ``karpenter.py``);
- EFA and placement groups: since Karpenter v1.11 an EC2NodeClass carries per-card EFA-only interfaces and a
  placement group (aws/karpenter-provider-aws#9030, which closed #3324), so these pools need no node group;
- capacity reservations and Capacity Blocks: Karpenter launches into the reservations the pool names
  (capacity type ``reserved``), and only there, so all of a pool's nodes share the reservation's zone;
- ``min_nodes > 0``: Karpenter keeps no minimum (static NodePools are alpha), so that many nodes are a managed
  node group of fixed size, with the same labels, taint, EFA interfaces and placement group; Karpenter adds
  the rest up to ``max_nodes``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from lepton_infra.blueprint.site_aws import AwsGpuPoolSpec
from lepton_infra.catalog.aws_efa import efa_interfaces
from lepton_infra.components.aws.efa import NetworkInterface, efa_layout
from lepton_infra.components.aws.efa_cluster import efa_fabric
from lepton_infra.components.aws.karpenter_pools import KarpenterPool
from lepton_infra.components.aws.node_group import (
    GPU_AMI_TYPE,
    AwsManagedNodeGroup,
    AwsManagedNodeGroupArgs,
    NodeTaint,
)
from lepton_infra.components.gpu_nodes import GPU_TAINT_KEY, GPU_TAINT_VALUE
from lepton_infra.components.handle import NodePlacement
from lepton_infra.components.site_kit import GpuPoolPlan


@dataclass(frozen=True)
class AwsGpuPoolArgs:
    """The inputs of an AwsGpuPool."""

    plan: GpuPoolPlan
    """The pool resolved: its spec, the catalog instance type its nodes run and the labels they carry."""
    cluster_name: pulumi.Input[str]
    """The EKS cluster the nodes join."""
    kubernetes_version: str
    """The nodes' Kubernetes minor version: the cluster's."""
    node_role_arn: pulumi.Input[str]
    """The managed node groups' role (a baseline group of ``min_nodes`` uses it)."""
    private_subnet_ids: pulumi.Output[list[str]]
    """The private subnets nodes launch into; a placement group keeps them to one zone's."""
    cluster_security_group_id: pulumi.Input[str]
    """The security group EKS puts on the control plane and managed nodes: named on every interface of an
    EFA node, which then gets no group from EKS itself."""
    kms_key_arn: pulumi.Input[str]
    """KMS key the nodes' root volumes are encrypted with."""
    efa_security_group_id: pulumi.Input[str] | None = None
    """The site's EFA security group; needed by a pool with ``efa``, None otherwise."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What a baseline node group waits for (its role's policies, vpc-cni, kube-proxy)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the node group, its launch template and what it launches."""


class AwsGpuPool(pulumi.ComponentResource):
    """A GPU pool: its cluster placement group if asked for, a fixed managed node group of ``min_nodes``
    if any, and what Karpenter needs to launch the rest (``karpenter``, None when nothing is left to
    launch). ``placement`` says how pods land there, with the EFA fabric where the pool has it."""

    karpenter: KarpenterPool | None
    placement: NodePlacement

    def __init__(self, name: str, args: AwsGpuPoolArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("lepton:aws:GpuPool", name, None, opts)
        pool = args.plan.pool
        if not isinstance(pool, AwsGpuPoolSpec):
            raise TypeError(f"pool {pool.name!r} is not an AWS pool")
        instance_type = args.plan.offering.instance_type
        efa_devices = efa_interfaces(instance_type) if pool.efa else 0
        if pool.efa and not (efa_devices and args.efa_security_group_id is not None):
            raise ValueError(f"pool {pool.name!r}: EFA needs an EFA type and the site's EFA security group")
        interfaces: tuple[NetworkInterface, ...] = efa_layout(efa_devices) if efa_devices else ()
        # EFA traffic stays in one subnet and a cluster placement group in one zone.
        subnets = (
            args.private_subnet_ids.apply(lambda ids: [ids[pool.zone_index]])
            if pool.single_zone
            else args.private_subnet_ids
        )
        security_groups = [args.cluster_security_group_id]
        if efa_devices and args.efa_security_group_id is not None:
            security_groups.append(args.efa_security_group_id)
        placement_group = (
            aws.ec2.PlacementGroup(
                f"{name}-pg",
                aws.ec2.PlacementGroupArgs(strategy="cluster", tags=dict(args.tags)),
                opts=pulumi.ResourceOptions(parent=self),
            )
            if pool.placement_group
            else None
        )
        if pool.min_nodes:
            AwsManagedNodeGroup(
                f"{name}-baseline",
                AwsManagedNodeGroupArgs(
                    cluster_name=args.cluster_name,
                    kubernetes_version=args.kubernetes_version,
                    node_role_arn=args.node_role_arn,
                    subnet_ids=subnets,
                    instance_type=instance_type,
                    ami_type=GPU_AMI_TYPE,
                    min_nodes=pool.min_nodes,
                    max_nodes=pool.min_nodes,
                    spot=pool.spot,
                    disk_gib=pool.disk_gib,
                    kms_key_arn=args.kms_key_arn,
                    labels=args.plan.labels,
                    taints=[NodeTaint(GPU_TAINT_KEY, GPU_TAINT_VALUE)],
                    network_interfaces=interfaces,
                    # With its own interfaces a node gets no security group from EKS: name them all.
                    security_group_ids=security_groups if interfaces else (),
                    placement_group_name=placement_group.name if placement_group else None,
                    depends_on=args.depends_on,
                    tags=args.tags,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
        capacity_type = "reserved" if pool.capacity_reservation_ids else "spot" if pool.spot else "on-demand"
        self.karpenter = (
            KarpenterPool(
                name=pool.name,
                instance_type=instance_type,
                capacity_type=capacity_type,
                labels=args.plan.labels,
                max_nodes=pool.max_nodes - pool.min_nodes,
                gpus_per_node=args.plan.offering.gpus,
                disk_gib=pool.disk_gib,
                subnet_ids=subnets,
                security_group_ids=security_groups,
                network_interfaces=interfaces,
                placement_group_name=placement_group.name if placement_group else None,
                capacity_reservation_ids=pool.capacity_reservation_ids,
            )
            if pool.max_nodes > pool.min_nodes
            else None
        )
        placement = args.plan.placement()
        self.placement = (
            dataclasses.replace(placement, fabric=efa_fabric(efa_devices)) if efa_devices else placement
        )
        self.register_outputs({})
