"""A VPC with node and pod vSwitches in each zone and one NAT gateway for egress; no public IPs.

The AlicloudNetwork component.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_alicloud as alicloud

from lepton_infra.components.args import refuse_args
from lepton_infra.validation import Problem, at, network_cidr, within

# Pods get a quarter of the range per zone, nodes share the last quarter: three zones at most. Two at least,
# so that the cluster survives a zone's outage.
ZONES = (2, 3)


@dataclass(frozen=True)
class AlicloudNetworkArgs:
    """The inputs of an AlicloudNetwork."""

    cidr: str
    """The VPC's IPv4 range, private (RFC 1918 or 100.64.0.0/10) and /16 to /20, e.g. ``10.40.0.0/16``.
    Terway gives every pod a VPC address, so each zone's pod vSwitch takes a quarter of it; the node vSwitches
    share the last quarter."""
    zone_ids: Sequence[str] = ()
    """Zones to span, e.g. ``["cn-hangzhou-h", "cn-hangzhou-i"]``: pick zones that stock the GPU types you
    need. Empty: the region's first ``zone_count`` zones that offer vSwitches."""
    zone_count: int = 2
    """How many zones to span, 2 or 3, when ``zone_ids`` is empty."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the VPC, its vSwitches, the NAT gateway and its EIP."""

    def __post_init__(self) -> None:
        refuse_args(self, [*at("cidr", network_cidr(self.cidr)), *self._zones()])

    def _zones(self) -> list[Problem]:
        if isinstance(self.zone_ids, list | tuple) and self.zone_ids:
            if (
                len(set(self.zone_ids)) != len(self.zone_ids)
                or not ZONES[0] <= len(self.zone_ids) <= ZONES[1]
            ):
                return [
                    Problem("zone_ids", f"a site spans 2 or 3 different zones, not {list(self.zone_ids)}")
                ]
            return []
        return at("zone_count", within(self.zone_count, *ZONES, "zones"))


def vswitch_cidrs(cidr: str, zones: int) -> tuple[list[str], list[str]]:
    """(node, pod) CIDRs per zone. Terway gives every pod a VPC address from its zone's pod vSwitch, so
    pods get a quarter of the range per zone; nodes share the last quarter."""
    quarters = list(ipaddress.IPv4Network(cidr).subnets(prefixlen_diff=2))
    nodes = list(quarters[3].subnets(prefixlen_diff=2))[:zones]
    return [str(n) for n in nodes], [str(p) for p in quarters[:zones]]


class AlicloudNetwork(pulumi.ComponentResource):
    """A VPC whose nodes and pods reach the internet only through an enhanced NAT gateway with one EIP
    (an SNAT entry per vSwitch); nothing in it gets a public address of its own, and nothing is reachable
    from the internet."""

    vpc_id: pulumi.Output[str]
    """ID of the VPC."""
    zone_ids: pulumi.Output[list[str]]
    """The zones the network spans, in vSwitch order: the given ``zone_ids``, or those the region offered."""
    node_vswitch_ids: pulumi.Output[list[str]]
    """The nodes' vSwitches, one per zone: an AlicloudAckCluster's ``node_vswitch_ids``."""
    pod_vswitch_ids: pulumi.Output[list[str]]
    """The pods' vSwitches (Terway), one per zone: an AlicloudAckCluster's ``pod_vswitch_ids``."""
    egress_ip: pulumi.Output[str]
    """The one public IP all egress leaves from (the NAT gateway's EIP): what to allowlist at the other
    end."""

    def __init__(
        self, name: str, args: AlicloudNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("lepton:alicloud:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        zone_count = len(args.zone_ids) or args.zone_count
        zones: pulumi.Output[list[str]] = (
            pulumi.Output.from_input(list(args.zone_ids))
            if args.zone_ids
            else alicloud.get_zones_output(
                available_resource_creation="VSwitch", opts=pulumi.InvokeOutputOptions(parent=self)
            ).ids
        )
        node_cidrs, pod_cidrs = vswitch_cidrs(args.cidr, zone_count)

        vpc = alicloud.vpc.Network(
            f"{name}-vpc",
            alicloud.vpc.NetworkArgs(vpc_name=f"{name}-vpc", cidr_block=args.cidr, tags=dict(args.tags)),
            opts=child,
        )

        def vswitch(role: str, index: int, cidr: str) -> tuple[str, alicloud.vpc.Switch]:
            switch_name = f"{name}-{role}-{index}"
            return switch_name, alicloud.vpc.Switch(
                switch_name,
                alicloud.vpc.SwitchArgs(
                    vswitch_name=switch_name,
                    vpc_id=vpc.id,
                    cidr_block=cidr,
                    zone_id=zones.apply(lambda ids: ids[index]),
                    tags={**args.tags, "lepton:vswitch-role": role},
                ),
                opts=child,
            )

        nodes = dict(vswitch("nodes", i, cidr) for i, cidr in enumerate(node_cidrs))
        pods = dict(vswitch("pods", i, cidr) for i, cidr in enumerate(pod_cidrs))

        nat = alicloud.vpc.NatGateway(
            f"{name}-nat",
            alicloud.vpc.NatGatewayArgs(
                nat_gateway_name=f"{name}-nat",
                vpc_id=vpc.id,
                vswitch_id=next(iter(nodes.values())).id,
                nat_type="Enhanced",
                network_type="internet",
                payment_type="PayAsYouGo",
                internet_charge_type="PayByLcu",
                tags=dict(args.tags),
            ),
            opts=child,
        )
        eip = alicloud.ecs.EipAddress(
            f"{name}-nat-eip",
            alicloud.ecs.EipAddressArgs(
                address_name=f"{name}-nat",
                payment_type="PayAsYouGo",
                internet_charge_type="PayByTraffic",
                bandwidth="200",
                isp="BGP",
                tags=dict(args.tags),
            ),
            opts=child,
        )
        association = alicloud.ecs.EipAssociation(
            f"{name}-nat-eip",
            alicloud.ecs.EipAssociationArgs(allocation_id=eip.id, instance_id=nat.id, instance_type="Nat"),
            opts=child,
        )
        for switch_name, vsw in {**nodes, **pods}.items():
            alicloud.vpc.SnatEntry(
                f"{switch_name}-snat",
                alicloud.vpc.SnatEntryArgs(
                    snat_table_id=nat.snat_table_ids,
                    source_vswitch_id=vsw.id,
                    snat_ip=eip.ip_address,
                    snat_entry_name=f"{switch_name}-snat",
                ),
                # An SNAT entry needs its EIP bound to the gateway first.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[association]),
            )

        self.vpc_id = vpc.id
        self.zone_ids = zones
        self.node_vswitch_ids = pulumi.Output.all(*[s.id for s in nodes.values()])
        self.pod_vswitch_ids = pulumi.Output.all(*[s.id for s in pods.values()])
        self.egress_ip = eip.ip_address
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "node_vswitch_ids": self.node_vswitch_ids,
                "pod_vswitch_ids": self.pod_vswitch_ids,
                "egress_ip": self.egress_ip,
            }
        )
