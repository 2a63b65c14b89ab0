"""AwsNetwork: a VPC across zones, private subnets for nodes, public ones only for load balancers and NAT."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from lepton_infra.components.args import refuse_args
from lepton_infra.components.aws.identity import service_role
from lepton_infra.components.aws.policy_documents import Statement, policy_document
from lepton_infra.validation import at, cloudwatch_retention_days, eks_cluster_name, network_cidr, within

# Subnets come from the range's quarters: one private quarter per zone, the public subnets from the last.
MAX_ZONES = 3


@dataclass(frozen=True)
class AwsNetworkArgs:
    """The inputs of an AwsNetwork."""

    cidr: str
    """The VPC's IPv4 range, private (RFC 1918 or 100.64.0.0/10) and /16 to /20, e.g. ``10.20.0.0/16``. Each
    zone's private subnet takes a quarter of it (pods get VPC addresses); the small public subnets come from
    the last quarter."""
    zone_count: int = 2
    """Availability zones to span, the region's first available ones: 2 (EKS wants subnets in two zones at
    least) or 3."""
    cluster_name: str | None = None
    """The EKS cluster the subnets serve: tags them (``kubernetes.io/cluster/<name>: shared``) so the AWS Load
    Balancer Controller finds them. None tags them for no cluster."""
    nat_gateway_per_zone: bool = False
    """A NAT gateway in every zone, so egress survives a zone's outage; one (in the first zone) otherwise,
    cheaper."""
    flow_log_kms_key_arn: pulumi.Input[str] | None = None
    """KMS key (e.g. an AwsKmsKey's ``arn``) the flow-log group is encrypted with; None leaves it to
    CloudWatch's own encryption. Every flow, accepted and rejected, is logged either way."""
    flow_log_retention_days: int = 90
    """Days the VPC flow logs are kept: one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90,
    120, 150, 180, 365, ... 3653)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on every resource of the network, besides the provider's default tags."""

    def __post_init__(self) -> None:
        refuse_args(
            self,
            [
                *at("cidr", network_cidr(self.cidr)),
                # "You must specify at least two subnets that are in different Availability Zones" (EKS user
                # guide, network requirements); a fourth zone's private quarter would be the public one.
                *at("zone_count", within(self.zone_count, 2, MAX_ZONES, "zones")),
                *at("cluster_name", eks_cluster_name(self.cluster_name)),
                *at("flow_log_retention_days", cloudwatch_retention_days(self.flow_log_retention_days)),
            ],
        )


def subnet_cidrs(cidr: str, zone_count: int) -> tuple[list[str], list[str]]:
    """(private, public) CIDRs: large private subnets (pods take VPC addresses), small public ones."""
    network = ipaddress.IPv4Network(cidr)
    # Private subnets get a quarter of the range each (the VPC CNI gives every pod a VPC address).
    private = list(network.subnets(prefixlen_diff=2))[:zone_count]
    # Public subnets (load balancers and NAT only) come from the last quarter, /24-sized or smaller.
    last_quarter = list(network.subnets(prefixlen_diff=2))[3]
    public_prefix = max(last_quarter.prefixlen + 2, min(24, network.max_prefixlen))
    public = list(last_quarter.subnets(new_prefix=public_prefix))[:zone_count]
    return [str(n) for n in private], [str(n) for n in public]


class AwsNetwork(pulumi.ComponentResource):
    """A VPC with one private and one public subnet per zone, its flow logs kept in CloudWatch.

    Nodes live only in private subnets (no public IPs); public subnets carry the NAT gateway(s) and
    internet-facing load balancers, and are tagged so the AWS Load Balancer Controller picks them.
    """

    vpc_id: pulumi.Output[str]
    """ID of the VPC."""
    private_subnet_ids: pulumi.Output[list[str]]
    """The private subnets, one per zone in zone order: where the cluster, its nodes and internal load
    balancers go. They reach the internet only through NAT."""
    public_subnet_ids: pulumi.Output[list[str]]
    """The public subnets, one per zone: NAT gateways and internet-facing load balancers only. No subnet hands
    out public IPs to what launches in it."""

    def __init__(self, name: str, args: AwsNetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("lepton:aws:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        zones = aws.get_availability_zones_output(
            state="available", opts=pulumi.InvokeOutputOptions(parent=self)
        ).names
        private_cidrs, public_cidrs = subnet_cidrs(args.cidr, args.zone_count)
        cluster_tag = {f"kubernetes.io/cluster/{args.cluster_name}": "shared"} if args.cluster_name else {}

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            aws.ec2.VpcArgs(
                cidr_block=args.cidr,
                enable_dns_hostnames=True,
                enable_dns_support=True,
                tags={**args.tags, "Name": f"{name}-vpc"},
            ),
            opts=child,
        )
        # Lock down the default security group: nothing may rely on its allow-all rules.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            aws.ec2.DefaultSecurityGroupArgs(vpc_id=vpc.id, tags={**args.tags, "Name": f"{name}-default"}),
            opts=child,
        )
        igw = aws.ec2.InternetGateway(
            f"{name}-igw",
            aws.ec2.InternetGatewayArgs(vpc_id=vpc.id, tags={**args.tags, "Name": f"{name}-igw"}),
            opts=child,
        )
        public_routes = aws.ec2.RouteTable(
            f"{name}-public-rt",
            aws.ec2.RouteTableArgs(
                vpc_id=vpc.id,
                routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
                tags={**args.tags, "Name": f"{name}-public"},
            ),
            opts=child,
        )

        public_subnets: list[aws.ec2.Subnet] = []
        private_subnets: list[aws.ec2.Subnet] = []
        nat_ids: list[pulumi.Output[str]] = []

        def zone_at(index: int) -> pulumi.Output[str]:
            return zones.apply(lambda names: names[index])

        def subnet(
            kind: str, index: int, cidr: str, elb_role: str, routes: aws.ec2.RouteTable
        ) -> aws.ec2.Subnet:
            """One zone's subnet of ``kind``, tagged for the load balancers of its ``elb_role``, routed by
            ``routes``; no public IPs on launch, even in public subnets."""
            subnet = aws.ec2.Subnet(
                f"{name}-{kind}-{index}",
                aws.ec2.SubnetArgs(
                    vpc_id=vpc.id,
                    cidr_block=cidr,
                    availability_zone=zone_at(index),
                    map_public_ip_on_launch=False,
                    tags={
                        **args.tags,
                        **cluster_tag,
                        "Name": f"{name}-{kind}-{index}",
                        f"kubernetes.io/role/{elb_role}": "1",
                    },
                ),
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-{kind}-{index}",
                aws.ec2.RouteTableAssociationArgs(subnet_id=subnet.id, route_table_id=routes.id),
                opts=child,
            )
            return subnet

        for index in range(args.zone_count):
            public = subnet("public", index, public_cidrs[index], "elb", public_routes)
            public_subnets.append(public)
            if index == 0 or args.nat_gateway_per_zone:
                eip = aws.ec2.Eip(
                    f"{name}-nat-{index}",
                    aws.ec2.EipArgs(domain="vpc", tags={**args.tags, "Name": f"{name}-nat-{index}"}),
                    opts=child,
                )
                nat = aws.ec2.NatGateway(
                    f"{name}-nat-{index}",
                    aws.ec2.NatGatewayArgs(
                        allocation_id=eip.id,
                        subnet_id=public.id,
                        tags={**args.tags, "Name": f"{name}-nat-{index}"},
                    ),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                )
                nat_ids.append(nat.id)
            private_routes = aws.ec2.RouteTable(
                f"{name}-private-rt-{index}",
                aws.ec2.RouteTableArgs(
                    vpc_id=vpc.id,
                    routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat_ids[-1])],
                    tags={**args.tags, "Name": f"{name}-private-{index}"},
                ),
                opts=child,
            )
            private = subnet("private", index, private_cidrs[index], "internal-elb", private_routes)
            private_subnets.append(private)

        _flow_logs(name, vpc.id, args, self)
        self.vpc_id = vpc.id
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in private_subnets])
        self.public_subnet_ids = pulumi.Output.all(*[s.id for s in public_subnets])
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "private_subnet_ids": self.private_subnet_ids,
                "public_subnet_ids": self.public_subnet_ids,
            }
        )


def _flow_logs(name: str, vpc_id: pulumi.Input[str], args: AwsNetworkArgs, parent: pulumi.Resource) -> None:
    """Every accepted and rejected flow of the VPC, for incident response (CIS AWS Foundations 3.7)."""
    child = pulumi.ResourceOptions(parent=parent)
    group = aws.cloudwatch.LogGroup(
        f"{name}-flow-logs",
        aws.cloudwatch.LogGroupArgs(
            name=f"/lepton/vpc/{name}/flow-logs",
            retention_in_days=args.flow_log_retention_days,
            kms_key_id=args.flow_log_kms_key_arn,
            tags=dict(args.tags),
        ),
        opts=child,
    )
    role = service_role(f"{name}-flow-logs", "vpc-flow-logs.amazonaws.com", (), args.tags, parent).role
    aws.iam.RolePolicy(
        f"{name}-flow-logs",
        aws.iam.RolePolicyArgs(
            role=role.id,
            policy=policy_document(
                Statement(
                    sid="FindStreamsOfItsGroup", actions=["logs:DescribeLogStreams"], resources=[group.arn]
                ),
                Statement(
                    sid="WriteStreamsOfItsGroup",
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[pulumi.Output.concat(group.arn, ":log-stream:*")],
                ),
            ),
        ),
        opts=child,
    )
    aws.ec2.FlowLog(
        f"{name}-flow-log",
        aws.ec2.FlowLogArgs(
            vpc_id=vpc_id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=600,
            tags=dict(args.tags),
        ),
        opts=child,
    )
