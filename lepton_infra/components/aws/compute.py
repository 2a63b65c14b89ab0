"""AwsClusterCompute: everything that gives an EKS cluster somewhere to run pods, in the order that works.

vpc-cni and kube-proxy, then the system pool (a managed node group, where CoreDNS, metrics-server and
Karpenter's controller run), then CoreDNS and metrics-server; the GPU pools Karpenter grows from zero
(``gpu_pool.py``), with EFA's security group and device plugin where a pool has EFA. What the Kubernetes layer
installs for it (Karpenter's charts and its NodePools, the EFA device plugin) comes out as plain data,
``services``; ``ready`` is what the Kubernetes layer must wait for before its first object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from lepton_infra.blueprint import AwsSiteSpec
from lepton_infra.catalog import Cloud
from lepton_infra.components.aws.addons import AFTER_SYSTEM_POOL, BEFORE_NODES, COREDNS, eks_addons
from lepton_infra.components.aws.cluster import AwsEksCluster
from lepton_infra.components.aws.efa import AwsEfaSecurityGroup, AwsEfaSecurityGroupArgs
from lepton_infra.components.aws.efa_cluster import efa_device_plugin
from lepton_infra.components.aws.gpu_pool import AwsGpuPool, AwsGpuPoolArgs
from lepton_infra.components.aws.karpenter import AwsKarpenter, AwsKarpenterArgs, karpenter_services
from lepton_infra.components.aws.karpenter_pools import KarpenterNodes, node_class, node_pool
from lepton_infra.components.aws.node_group import AwsManagedNodeGroup, AwsManagedNodeGroupArgs
from lepton_infra.components.gpu_nodes import POOL_LABEL, SYSTEM_POOL_NAME
from lepton_infra.components.handle import NodePlacement
from lepton_infra.components.services import ClusterService
from lepton_infra.components.site_kit import gpu_pool_plans


@dataclass(frozen=True)
class AwsClusterComputeArgs:
    """The inputs of an AwsClusterCompute."""

    site: AwsSiteSpec
    """The AWS site as the platform spec states it: its system pool and GPU pools."""
    cluster: AwsEksCluster
    """The cluster the nodes join: its node role, security group and OIDC provider."""
    cluster_name: str
    """The cluster's name as the site chose it: Karpenter's IAM conditions spell it out."""
    vpc_id: pulumi.Input[str]
    """The site's VPC, where the EFA security group is made."""
    private_subnet_ids: pulumi.Output[list[str]]
    """The private subnets nodes launch into (no public IPs)."""
    kms_key_arn: pulumi.Input[str]
    """KMS key the nodes' root volumes are encrypted with."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the add-ons, node groups, EFA security group and Karpenter's resources."""
    system_pool_formerly: str | None = None
    """The name the system pool had when it hung directly under the site (before this component existed):
    aliased, so a stack made then keeps its system node group instead of replacing it. None: no alias."""


class AwsClusterCompute(pulumi.ComponentResource):
    """The cluster's add-ons, system pool and GPU pools (see the module docstring for the order)."""

    # What the Kubernetes layer waits for: the system pool and CoreDNS.
    ready: list[pulumi.Resource]
    # What the Kubernetes layer installs for these pools, in order.
    services: tuple[ClusterService, ...]
    placements: tuple[NodePlacement, ...]

    def __init__(
        self, name: str, args: AwsClusterComputeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("lepton:aws:ClusterCompute", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        site, cluster = args.site, args.cluster
        version = site.kubernetes_version
        before = eks_addons(name, cluster.cluster_name, version, BEFORE_NODES, child, tags=args.tags)
        # A node needs its role's policies and its CNI and proxy before it can become Ready.
        nodes_need = [*cluster.node_role_ready, *before.values()]
        system = AwsManagedNodeGroup(
            f"{name}-{SYSTEM_POOL_NAME}",
            AwsManagedNodeGroupArgs(
                cluster_name=cluster.cluster_name,
                kubernetes_version=version,
                node_role_arn=cluster.node_role_arn,
                subnet_ids=args.private_subnet_ids,
                instance_type=site.system_pool.instance_type,
                min_nodes=site.system_pool.min_nodes,
                max_nodes=site.system_pool.max_nodes,
                disk_gib=site.system_pool.disk_gib,
                kms_key_arn=args.kms_key_arn,
                labels={POOL_LABEL: SYSTEM_POOL_NAME},
                depends_on=nodes_need,
                tags=args.tags,
            ),
            opts=pulumi.ResourceOptions.merge(child, _formerly(args.system_pool_formerly, opts)),
        )
        after = eks_addons(
            name, cluster.cluster_name, version, AFTER_SYSTEM_POOL, child, depends_on=[system], tags=args.tags
        )
        self.ready = [system, after[COREDNS]]

        efa_group = (
            AwsEfaSecurityGroup(f"{name}-efa", AwsEfaSecurityGroupArgs(args.vpc_id, args.tags), opts=child)
            if any(pool.efa for pool in site.gpu_pools)
            else None
        )
        pools = [
            AwsGpuPool(
                f"{name}-{plan.pool.name}",
                AwsGpuPoolArgs(
                    plan=plan,
                    cluster_name=cluster.cluster_name,
                    kubernetes_version=version,
                    node_role_arn=cluster.node_role_arn,
                    private_subnet_ids=args.private_subnet_ids,
                    cluster_security_group_id=cluster.security_group_id,
                    kms_key_arn=args.kms_key_arn,
                    efa_security_group_id=efa_group.security_group_id if efa_group else None,
                    depends_on=nodes_need,
                    tags=args.tags,
                ),
                opts=child,
            )
            for plan in gpu_pool_plans(Cloud.AWS, site)
        ]
        self.placements = tuple(pool.placement for pool in pools)
        launched = [pool.karpenter for pool in pools if pool.karpenter is not None]
        services: list[ClusterService] = []
        if launched:
            karpenter = AwsKarpenter(
                f"{name}-karpenter",
                AwsKarpenterArgs(
                    cluster_name=args.cluster_name,
                    cluster_arn=cluster.arn,
                    oidc_provider_arn=cluster.oidc_provider_arn,
                    oidc_issuer=cluster.oidc_issuer,
                    kms_key_arn=args.kms_key_arn,
                    tags=args.tags,
                ),
                opts=child,
            )
            nodes = KarpenterNodes(
                node_role_name=karpenter.node_role_name,
                kms_key_arn=args.kms_key_arn,
                ami_alias=site.gpu_node_ami_alias,
                tags=args.tags,
            )
            objects = [obj for pool in launched for obj in (node_class(pool, nodes), node_pool(pool))]
            services += karpenter_services(
                args.cluster_name, karpenter.queue_name, karpenter.controller_role_arn, objects
            )
        if efa_group is not None:
            services.append(efa_device_plugin())
        self.services = tuple(services)
        self.register_outputs({})


def _formerly(name: str | None, opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
    # Its children are named after it, so the engine carries them over with it (inherited child aliases).
    if name is None:
        return pulumi.ResourceOptions()
    return pulumi.ResourceOptions(aliases=[pulumi.Alias(name=name, parent=opts.parent if opts else None)])
