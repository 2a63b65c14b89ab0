"""EC2 capacity behind EKS nodes: IMDSv2, no public addresses, encrypted disks, no open SSH."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from lepton_infra.policies.networks import CIDR_SETTINGS, exposed_ports
from lepton_infra.policies.rule import Outcome, Subject, checkov, resource_policy
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import as_float, as_list, get, is_true, number

LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
INSTANCE = "aws:ec2/instance:Instance"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SSH_PORT = 22


@resource_policy(
    name="aws-ec2-require-imdsv2",
    types=(LAUNCH_TEMPLATE, INSTANCE),
    severity="high",
    description=(
        "Nodes must require IMDSv2 session tokens, so a pod cannot replay the node's credentials via SSRF."
    ),
    remediation="Set `metadataOptions: {httpTokens: required, httpPutResponseHopLimit: 1}`.",
    controls=checkov("CKV_AWS_79", "CKV_AWS_341"),
)
def require_imdsv2(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    options = get(r.props, "metadataOptions", default={})
    if get(options, "httpEndpoint") == "disabled":
        return
    if get(options, "httpTokens") != "required":
        yield "instance metadata does not require IMDSv2 (metadataOptions.httpTokens is not `required`)"
    hops = as_float(get(options, "httpPutResponseHopLimit"))
    if hops is not None and hops > 1:
        # A hop limit above 1 lets the token answer reach a pod's network namespace.
        yield f"the metadata hop limit is {number(hops)}: pods can reach the node's credentials"


@resource_policy(
    name="aws-ec2-disallow-public-ip",
    types=(LAUNCH_TEMPLATE, INSTANCE),
    severity="high",
    description="Nodes must not get public IP addresses.",
    remediation="Place nodes in private subnets and set `associatePublicIpAddress: false`.",
    controls=checkov("CKV_AWS_88"),
)
def disallow_public_ip(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    if is_true(get(r.props, "associatePublicIpAddress")):
        yield "the instance gets a public IP address"
    for interface in as_list(get(r.props, "networkInterfaces")):
        if is_true(get(interface, "associatePublicIpAddress")):
            yield f"network interface {get(interface, 'deviceIndex', default=0)} gets a public IP address"


def _volumes(r: Subject) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for mapping in as_list(get(r.props, "blockDeviceMappings")):
        if get(mapping, "ebs") is not None:
            yield str(get(mapping, "deviceName", default="volume")), get(mapping, "ebs")
    if r.type == INSTANCE:
        yield "root volume", get(r.props, "rootBlockDevice", default={})
        for volume in as_list(get(r.props, "ebsBlockDevices")):
            yield str(get(volume, "deviceName", default="volume")), volume


@resource_policy(
    name="aws-ec2-encrypted-disks",
    types=(LAUNCH_TEMPLATE, INSTANCE),
    severity="high",
    description="Node volumes must be encrypted.",
    remediation="Set `ebs.encrypted: true` (and `kmsKeyId` to the site's key) on every block device mapping.",
    controls=checkov("CKV_AWS_8", "CKV_AWS_3"),
)
def encrypted_disks(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    volumes = list(_volumes(r))
    if r.type == LAUNCH_TEMPLATE and not volumes:
        yield "the launch template maps no encrypted root volume (the AMI's unencrypted default applies)"
    for device, ebs in volumes:
        if not is_true(get(ebs, "encrypted")):
            yield f"{device} is not encrypted"


@resource_policy(
    name="aws-eks-nodegroup-hardened",
    types=(NODE_GROUP,),
    severity="high",
    description=(
        "EKS node groups must use a launch template (IMDSv2, encrypted disks) and allow no SSH remote access."
    ),
    remediation=(
        "Pass `launchTemplate: {id, version}` of a hardened template and remove `remoteAccess`; use "
        "SSM Session Manager instead of SSH."
    ),
    controls=checkov("CKV_AWS_100"),
)
def nodegroup_hardened(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    if get(r.props, "launchTemplate") is None:
        yield "the node group uses no launch template, so IMDSv2 and disk encryption are not enforced"
    remote = get(r.props, "remoteAccess")
    if remote is not None:
        if not as_list(get(remote, "sourceSecurityGroupIds")):
            yield "remoteAccess opens SSH to the internet (no sourceSecurityGroupIds)"
        else:
            yield "remoteAccess enables SSH to the nodes"


def _ssh_rules(r: Subject) -> Iterator[tuple[Any, list[str]]]:
    if r.type in (SECURITY_GROUP, DEFAULT_SECURITY_GROUP):
        for rule in as_list(get(r.props, "ingress")):
            yield rule, [*as_list(get(rule, "cidrBlocks")), *as_list(get(rule, "ipv6CidrBlocks"))]
    elif r.type == SECURITY_GROUP_RULE:
        if get(r.props, "type") == "ingress":
            yield r.props, [*as_list(get(r.props, "cidrBlocks")), *as_list(get(r.props, "ipv6CidrBlocks"))]
    else:
        yield r.props, [c for c in (get(r.props, "cidrIpv4"), get(r.props, "cidrIpv6")) if c]


ADMIN_PORTS = {SSH_PORT: "SSH (port 22)", 3389: "RDP (port 3389)"}


def _opens(protocol: Any, from_port: Any, to_port: Any, port: int) -> bool:
    if str(protocol) in ("-1", "all"):
        return True
    if str(protocol).lower() not in ("tcp", "6"):
        return False
    low, high = (
        float(from_port if from_port is not None else 0),
        float(to_port if to_port is not None else 65535),
    )
    return low <= port <= high


@resource_policy(
    name="aws-ec2-security-group-disallow-open-ssh",
    types=(SECURITY_GROUP, DEFAULT_SECURITY_GROUP, SECURITY_GROUP_RULE, INGRESS_RULE),
    severity="high",
    description="No security group may admit SSH (22), RDP (3389) or all traffic from the internet.",
    remediation=(
        "Remove the 0.0.0.0/0 (or ::/0) ingress; reach nodes through SSM Session Manager, and open only "
        "the ports a Service needs."
    ),
    controls=checkov("CKV_AWS_24", "CKV_AWS_25", "CKV_AWS_277"),
    config=CIDR_SETTINGS,
)
def disallow_open_ssh(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    opened: list[tuple[str | None, Sequence[object]]] = []
    for rule, cidrs in _ssh_rules(r):
        protocol = get(rule, "protocol", default=get(rule, "ipProtocol"))
        if str(protocol) in ("-1", "all"):
            opened.append((None, cidrs))
            continue
        for port, name in ADMIN_PORTS.items():
            if _opens(protocol, get(rule, "fromPort"), get(rule, "toPort"), port):
                opened.append((name, cidrs))
    yield from exposed_ports(opened, ADMIN_PORTS.values(), settings)


POLICIES = (require_imdsv2, disallow_public_ip, encrypted_disks, nodegroup_hardened, disallow_open_ssh)
