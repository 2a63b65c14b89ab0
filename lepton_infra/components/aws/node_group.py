"""AwsManagedNodeGroup: an EKS managed node group behind a hardened launch template."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from lepton_infra.components.aws.efa import NetworkInterface
from lepton_infra.validation import Problem, check_node_range, refuse

GPU_AMI_TYPE = "AL2023_x86_64_NVIDIA"  # EKS-optimized AL2023 with the NVIDIA driver and container toolkit
STANDARD_AMI_TYPE = "AL2023_x86_64_STANDARD"


@dataclass(frozen=True)
class NodeTaint:
    key: str
    value: str
    effect: str = "NO_SCHEDULE"  # the EKS API's spelling of NoSchedule


@dataclass(frozen=True)
class AwsManagedNodeGroupArgs:
    cluster_name: pulumi.Input[str]
    kubernetes_version: str
    node_role_arn: pulumi.Input[str]
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    instance_type: str
    min_nodes: int
    max_nodes: int
    kms_key_arn: pulumi.Input[str]
    ami_type: str = STANDARD_AMI_TYPE
    spot: bool = False
    disk_gib: int = 100
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: Sequence[NodeTaint] = ()
    # Each node's interfaces (an EFA layout, ``efa.efa_layout``); empty: EKS's single default interface.
    network_interfaces: Sequence[NetworkInterface] = ()
    # Security groups on every interface, required with ``network_interfaces``: a launch template that
    # names interfaces must name their groups, and EKS then adds no cluster security group itself, so
    # the cluster's group belongs here (EKS user guide, launch-templates.adoc).
    security_group_ids: Sequence[pulumi.Input[str]] = ()
    # A cluster placement group the nodes launch into.
    placement_group_name: pulumi.Input[str] | None = None
    # What must exist before the group: its role's policies, the add-ons nodes need to become Ready.
    depends_on: Sequence[pulumi.Resource] = ()
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_node_range(self.min_nodes, self.max_nodes)
        if self.network_interfaces and not self.security_group_ids:
            refuse(
                [
                    Problem(
                        "security_group_ids",
                        "nodes with their own network interfaces need their groups named",
                    )
                ]
            )


class AwsManagedNodeGroup(pulumi.ComponentResource):
    """Nodes in private subnets only, with IMDSv2 required at hop limit 1 (pods cannot borrow the node's
    role; they use IRSA), an encrypted gp3 root volume with the site key, no SSH key, and
    ``min_nodes`` nodes (nothing autoscales a managed node group here: Karpenter grows the GPU pools).
    Optionally EFA interfaces on every network card and a cluster placement group. The group waits for
    what ``depends_on`` names (its role's policies, vpc-cni and kube-proxy)."""

    node_group_name: pulumi.Output[str]

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
