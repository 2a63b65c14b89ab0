"""Elastic Fabric Adapter on the nodes: how an EFA node's network interfaces are laid out, and the security
group EFA needs. What the cluster and its pods need (device plugin, pod requests) is in ``efa_cluster.py``.

Sources:
- Interface layout: EC2 User Guide "Maximize network bandwidth on Amazon EC2 instances with multiple network
  cards" (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/efa-acc-inst-types.html): an ENA interface as
  the primary (card 0, device 0), an EFA-only interface at card 0 / device 1, and an EFA-only interface at
  device 0 of every further card; the EKS user guide uses the same layout for Karpenter and launch templates
  (https://docs.aws.amazon.com/eks/latest/userguide/device-management-efa.html). EFA-only interfaces take
  no IP address, so a p5.48xlarge uses one subnet address, not 32 ("Conserving IP address allocation").
- Security group: "must allow all inbound and outbound traffic to and from itself to enable EFA OS-bypass"
  (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/efa-start.html#efa-start-security).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from lepton_infra.components.args import refuse_args
from lepton_infra.validation import Problem, at, at_least, one_of

# The interface types a launch template names: an ENA interface, or an EFA-only one (no IP address).
INTERFACE_KINDS = ("interface", "efa-only")


@dataclass(frozen=True)
class NetworkInterface:
    """One interface of a node: its network card, device index there, and type (``interface`` = ENA)."""

    network_card: int
    """Index of the network card the interface is on (0 to the instance type's cards less one)."""
    device: int
    """Device index of the interface on its card; the primary interface is card 0, device 0."""
    kind: str
    """``interface`` (an ENA interface, with an IP address) or ``efa-only`` (EFA's OS-bypass only, no IP
    address, so a p5.48xlarge takes one subnet address rather than 32)."""

    def problems(self) -> list[Problem]:
        """What EC2 would refuse of this interface, paths relative to it."""
        return [
            *at("network_card", at_least(self.network_card, 0)),
            *at("device", at_least(self.device, 0)),
            *at("kind", one_of(self.kind, INTERFACE_KINDS)),
        ]


def efa_layout(efa_devices: int) -> tuple[NetworkInterface, ...]:
    """The interfaces of a node with ``efa_devices`` EFA devices, one per network card (see module doc)."""
    if efa_devices < 1:
        raise ValueError("an EFA layout needs at least one EFA device")
    return (
        NetworkInterface(0, 0, "interface"),
        NetworkInterface(0, 1, "efa-only"),
        *(NetworkInterface(card, 0, "efa-only") for card in range(1, efa_devices)),
    )


@dataclass(frozen=True)
class AwsEfaSecurityGroupArgs:
    """The inputs of an AwsEfaSecurityGroup."""

    vpc_id: pulumi.Input[str]
    """The VPC the group belongs to, e.g. an AwsNetwork's ``vpc_id``."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the group, besides the provider's default tags."""

    def __post_init__(self) -> None:
        refuse_args(self)


class AwsEfaSecurityGroup(pulumi.ComponentResource):
    """A security group that admits all traffic from, and sends all traffic to, itself and nothing else:
    what EFA's OS-bypass needs between the nodes that carry it. EFA nodes get it beside the cluster's."""

    security_group_id: pulumi.Output[str]
    """ID of the group: give it to the EFA nodes' interfaces, beside the cluster's security group."""

    def __init__(
        self, name: str, args: AwsEfaSecurityGroupArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("lepton:aws:EfaSecurityGroup", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            aws.ec2.SecurityGroupArgs(
                vpc_id=args.vpc_id,
                description="EFA: all traffic between the nodes that carry it",
                tags={**args.tags, "Name": name},
            ),
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-from-itself",
            aws.vpc.SecurityGroupIngressRuleArgs(
                security_group_id=group.id,
                referenced_security_group_id=group.id,
                ip_protocol="-1",  # all protocols, all ports
                description="EFA OS-bypass traffic from the other EFA nodes",
            ),
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-to-itself",
            aws.vpc.SecurityGroupEgressRuleArgs(
                security_group_id=group.id,
                referenced_security_group_id=group.id,
                ip_protocol="-1",
                description="EFA OS-bypass traffic to the other EFA nodes",
            ),
            opts=child,
        )
        self.security_group_id = group.id
        self.register_outputs({"security_group_id": self.security_group_id})
