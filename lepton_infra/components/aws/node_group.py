"""AwsManagedNodeGroup: an EKS managed node group behind a hardened launch template."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from lepton_infra.components.args import nested, refuse_args
from lepton_infra.components.aws.efa import NetworkInterface
from lepton_infra.validation import (
    Problem,
    at,
    at_least,
    kubernetes_version,
    name_length,
    node_range,
    one_of,
    within,
)

GPU_AMI_TYPE = "AL2023_x86_64_NVIDIA"  # EKS-optimized AL2023 with the NVIDIA driver and container toolkit
STANDARD_AMI_TYPE = "AL2023_x86_64_STANDARD"
# The EKS API's spellings of the Kubernetes taint effects (EKS API reference, Taint).
EKS_TAINT_EFFECTS = ("NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE")
# gp3 volumes: 1 GiB to 16 TiB (EBS user guide, volume types).
GP3_GIB = (1, 16384)


@dataclass(frozen=True)
class NodeTaint:
    """A taint on every node of the group, so only pods that tolerate it land there."""

    key: str
    """The taint's key, e.g. ``nvidia.com/gpu`` (1 to 63 characters)."""
    value: str
    """The taint's value (at most 63 characters)."""
    effect: str = "NO_SCHEDULE"
    """What the taint does to pods that do not tolerate it, as the EKS API spells it: ``NO_SCHEDULE``,
    ``NO_EXECUTE`` or ``PREFER_NO_SCHEDULE``."""

    def problems(self) -> list[Problem]:
        # "key ... Length Constraints: Minimum length of 1. Maximum length of 63"; value up to 63 (EKS API
        # reference, Taint).
        return [
            *at("key", name_length(self.key, 1, 63)),
            *at("value", name_length(self.value, 0, 63)),
            *at("effect", one_of(self.effect, EKS_TAINT_EFFECTS)),
        ]


@dataclass(frozen=True)
class AwsManagedNodeGroupArgs:
    """The inputs of an AwsManagedNodeGroup."""

    cluster_name: pulumi.Input[str]
    """The EKS cluster the nodes join, e.g. an AwsEksCluster's ``cluster_name``."""
    kubernetes_version: str
    """The nodes' Kubernetes minor version, e.g. ``1.33``: the cluster's (EKS refuses a newer one)."""
    node_role_arn: pulumi.Input[str]
    """IAM role of the nodes, e.g. an AwsEksCluster's ``node_role_arn``. Pods never get it: IMDSv2 with a hop
    limit of 1 keeps it on the node; pods get their own role (IRSA)."""
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Subnets the nodes launch into: private ones (no public IPs are handed out), e.g. an AwsNetwork's
    ``private_subnet_ids``, or one zone's for a placement group."""
    instance_type: str
    """EC2 instance type of every node, e.g. ``m7i.xlarge`` or ``p5.48xlarge``."""
    min_nodes: int
    """Nodes the group starts with and keeps (its desired size follows it): nothing autoscales a managed node
    group here, Karpenter grows the GPU pools."""
    max_nodes: int
    """Most nodes the group may have; at least ``min_nodes``."""
    kms_key_arn: pulumi.Input[str]
    """KMS key the nodes' root volumes are encrypted with, e.g. an AwsKmsKey's ``arn`` (whose policy must let
    Auto Scaling use it: ``allow_autoscaling``)."""
    ami_type: str = STANDARD_AMI_TYPE
    """EKS AMI type: ``AL2023_x86_64_STANDARD``, or ``AL2023_x86_64_NVIDIA`` for GPU nodes (driver and
    container toolkit in the image)."""
    spot: bool = False
    """Run on spot capacity: cheaper, and EC2 may take the nodes back at two minutes' notice."""
    disk_gib: int = 100
    """Size of each node's root volume in GiB (gp3, encrypted): container images and ephemeral storage live
    there."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Kubernetes labels on every node, e.g. the pool's label that workloads select."""
    taints: Sequence[NodeTaint] = ()
    """Taints on every node, so only pods that tolerate them land there (a GPU pool's)."""
    network_interfaces: Sequence[NetworkInterface] = ()
    """Each node's network interfaces, e.g. an EFA layout (``efa.efa_layout``); empty: EKS's single default
    interface."""
    security_group_ids: Sequence[pulumi.Input[str]] = ()
    """Security groups on every interface, required with ``network_interfaces``: a launch template that names
    interfaces must name their groups, and EKS then adds no cluster security group itself, so the cluster's
    group belongs here (EKS user guide, launch templates)."""
    placement_group_name: pulumi.Input[str] | None = None
    """A cluster placement group the nodes launch into (low-latency networking between them); None: none."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What must exist before the group: its role's policies, the add-ons nodes need to become Ready
    (vpc-cni, kube-proxy)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the group, its launch template, and the instances and volumes it launches."""

    def __post_init__(self) -> None:
        refuse_args(
            self,
            [
                *at("kubernetes_version", kubernetes_version(self.kubernetes_version)),
                # EKS scaling config: "minSize ... Minimum value of 0", "maxSize ... Minimum value of 1" (EKS
                # API reference, NodegroupScalingConfig).
                *at("min_nodes", at_least(self.min_nodes, 0, "nodes")),
                *at("max_nodes", at_least(self.max_nodes, 1, "node")),
                *at("min_nodes", node_range(self.min_nodes, self.max_nodes)),
                *at("disk_gib", within(self.disk_gib, *GP3_GIB, "GiB")),
                *nested("taints", self.taints, NodeTaint),
                *interface_problems(self.network_interfaces),
                *self._groups_named(),
            ],
        )

    def _groups_named(self) -> list[Problem]:
        if self.network_interfaces and not self.security_group_ids:
            return [
                Problem(
                    "security_group_ids", "nodes with their own network interfaces need their groups named"
                )
            ]
        return []


def interface_problems(interfaces: Sequence[NetworkInterface]) -> list[Problem]:
    """What EC2 would refuse of a launch template's interfaces, each at ``network_interfaces[i]``."""
    if not isinstance(interfaces, list | tuple):
        return []
    given = [(i, nic) for i, nic in enumerate(interfaces) if isinstance(nic, NetworkInterface)]
    problems = nested("network_interfaces", interfaces, NetworkInterface)
    # "You can't use an EFA-only network interface as the primary network interface" (EC2 User Guide,
    # https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/efa-acc-inst-types.html).
    problems += [
        Problem(f"network_interfaces[{i}].kind", "the primary interface (card 0, device 0) needs an IP")
        for i, nic in given
        if (nic.network_card, nic.device) == (0, 0) and nic.kind == "efa-only"
    ]
    slots = Counter((nic.network_card, nic.device) for _, nic in given)
    problems += [
        Problem(
            f"network_interfaces[{i}]",
            f"card {nic.network_card}, device {nic.device} is named more than once",
        )
        for i, nic in given
        if slots[nic.network_card, nic.device] > 1
    ]
    return problems


class AwsManagedNodeGroup(pulumi.ComponentResource):
    """Nodes in private subnets only, with IMDSv2 required at hop limit 1 (pods cannot borrow the node's
    role; they use IRSA), an encrypted gp3 root volume with the site key, no SSH key, and
    ``min_nodes`` nodes (nothing autoscales a managed node group here: Karpenter grows the GPU pools).
    Optionally EFA interfaces on every network card and a cluster placement group. The group waits for
    what ``depends_on`` names (its role's policies, vpc-cni and kube-proxy)."""

    node_group_name: pulumi.Output[str]
    """Name of the node group, as EKS knows it."""

    def __init__(
        self, name: str, args: AwsManagedNodeGroupArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("lepton:aws:ManagedNodeGroup", name, None, opts)
        template = aws.ec2.LaunchTemplate(
            f"{name}-lt",
            aws.ec2.LaunchTemplateArgs(
                description=f"hardened nodes of {name}",
                update_default_version=True,
                metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                    http_endpoint="enabled",
                    http_tokens="required",
                    http_put_response_hop_limit=1,
                    instance_metadata_tags="disabled",
                ),
                block_device_mappings=[
                    aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                        device_name="/dev/xvda",
                        ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                            volume_size=args.disk_gib,
                            volume_type="gp3",
                            encrypted="true",
                            kms_key_id=args.kms_key_arn,
                            delete_on_termination="true",
                        ),
                    )
                ],
                network_interfaces=[
                    aws.ec2.LaunchTemplateNetworkInterfaceArgs(
                        network_card_index=nic.network_card,
                        device_index=nic.device,
                        interface_type=nic.kind,
                        security_groups=list(args.security_group_ids),
                        delete_on_termination="true",
                        associate_public_ip_address="false",
                    )
                    for nic in args.network_interfaces
                ]
                or None,
                placement=(
                    aws.ec2.LaunchTemplatePlacementArgs(group_name=args.placement_group_name)
                    if args.placement_group_name is not None
                    else None
                ),
                tag_specifications=[
                    aws.ec2.LaunchTemplateTagSpecificationArgs(
                        resource_type=kind, tags={**args.tags, "Name": name}
                    )
                    for kind in ("instance", "volume")
                ],
                tags=dict(args.tags),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        group = aws.eks.NodeGroup(
            f"{name}-ng",
            aws.eks.NodeGroupArgs(
                cluster_name=args.cluster_name,
                node_role_arn=args.node_role_arn,
                subnet_ids=args.subnet_ids,
                version=args.kubernetes_version,
                ami_type=args.ami_type,
                instance_types=[args.instance_type],
                capacity_type="SPOT" if args.spot else "ON_DEMAND",
                scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                    min_size=args.min_nodes, max_size=args.max_nodes, desired_size=args.min_nodes
                ),
                update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable_percentage=33),
                launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                    id=template.id, version=template.latest_version.apply(str)
                ),
                node_repair_config=aws.eks.NodeGroupNodeRepairConfigArgs(enabled=True),
                labels=dict(args.labels),
                taints=[
                    aws.eks.NodeGroupTaintArgs(key=t.key, value=t.value, effect=t.effect) for t in args.taints
                ],
                tags=dict(args.tags),
            ),
            # Desired size follows min_nodes: nothing else moves it, and ignoring it would make a later
            # rise of min_nodes above the old desired size fail ("Minimum capacity can't be greater
            # than desired size").
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
        )
        self.node_group_name = group.node_group_name
        self.register_outputs({"node_group_name": self.node_group_name})
