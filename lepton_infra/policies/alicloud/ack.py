"""Alibaba Cloud ACK: private API, secrets under our KMS key, audit logs, hardened node pools."""

from __future__ import annotations

from collections.abc import Iterator

from lepton_infra.policies.networks import CIDR_SETTINGS, open_ranges
from lepton_infra.policies.props import as_list, get, is_set, is_true
from lepton_infra.policies.rule import Subject, cis_ack, resource_policy

CLUSTER = "alicloud:cs/managedKubernetes:ManagedKubernetes"
NODE_POOL = "alicloud:cs/nodePool:NodePool"
SECURITY_GROUP_RULE = "alicloud:ecs/securityGroupRule:SecurityGroupRule"
_LOG_COMPONENTS = ("apiserver", "kcm", "scheduler")


@resource_policy(
    name="alicloud-ack-cluster-disallow-public-endpoint",
    types=(CLUSTER,),
    severity="high",
    description="The ACK API server must not be exposed through an internet-facing load balancer.",
    remediation=(
        "Set `slbInternetEnabled: false`; reach the API through the VPC (VPN, bastion or a private CI"
        " runner)."
    ),
    controls=(cis_ack("Restrict access to the control plane endpoint"),),
)
def disallow_public_endpoint(r: Subject) -> Iterator[str]:
    # ACK has no source allowlist on the API server's SLB, so public means open to the internet.
    if get(r.props, "slbInternetEnabled", default=True) is not False:
        yield "the API server has an internet-facing endpoint (slbInternetEnabled)"


@resource_policy(
    name="alicloud-ack-cluster-secrets-encrypted",
    types=(CLUSTER,),
    severity="high",
    description="ACK must encrypt Kubernetes secrets with a customer KMS key.",
    remediation="Set `encryptionProviderKey` to the site's KMS key id.",
    controls=(cis_ack("Ensure Kubernetes Secrets are encrypted"),),
)
def secrets_encrypted(r: Subject) -> Iterator[str]:
    if not is_set(r.props, "encryptionProviderKey"):
        yield "secrets are not encrypted with a KMS key (encryptionProviderKey)"


@resource_policy(
    name="alicloud-ack-cluster-control-plane-logging",
    types=(CLUSTER,),
    severity="medium",
    description="ACK must ship control-plane (apiserver, kcm, scheduler) and audit logs to SLS.",
    remediation=(
        "Set `controlPlaneLogComponents: [apiserver, kcm, scheduler]`, `controlPlaneLogProject`, and "
        "`auditLogConfig: {enabled: true}`."
    ),
    controls=(cis_ack("Enable audit logs"),),
)
def control_plane_logging(r: Subject) -> Iterator[str]:
    enabled = {str(c) for c in as_list(get(r.props, "controlPlaneLogComponents"))}
    missing = [c for c in _LOG_COMPONENTS if c not in enabled]
    if missing:
        yield f"control-plane log components not enabled: {', '.join(missing)}"
    if not is_true(get(r.props, "auditLogConfig", "enabled")):
        yield "API server audit logs are off (auditLogConfig.enabled)"


@resource_policy(
    name="alicloud-ack-nodepool-disallow-public-ip",
    types=(NODE_POOL,),
    severity="high",
    description="ACK nodes must not get public IPs or EIPs.",
    remediation=(
        "Leave `internetMaxBandwidthOut` unset (or 0) and `scalingConfig.isBondEip` false; egress "
        "through a NAT gateway."
    ),
    controls=(cis_ack("Ensure clusters are created with private nodes"),),
)
def nodepool_disallow_public_ip(r: Subject) -> Iterator[str]:
    if float(get(r.props, "internetMaxBandwidthOut", default=0) or 0) > 0:
        yield "nodes get a public IP (internetMaxBandwidthOut > 0)"
    if is_true(get(r.props, "scalingConfig", "isBondEip")):
        yield "scaled nodes get an EIP (scalingConfig.isBondEip)"


@resource_policy(
    name="alicloud-ack-nodepool-encrypted-disks",
    types=(NODE_POOL,),
    severity="high",
    description="ACK node system and data disks must be encrypted.",
    remediation=(
        "Set `systemDiskEncrypted: true` (with `systemDiskKmsKey`) and `encrypted: true` on every data disk."
    ),
)
def nodepool_encrypted_disks(r: Subject) -> Iterator[str]:
    if not is_true(get(r.props, "systemDiskEncrypted")):
        yield "the system disk is not encrypted"
    for index, disk in enumerate(as_list(get(r.props, "dataDisks"))):
        if not is_true(get(disk, "encrypted")):
            yield f"data disk {get(disk, 'name', default=index)} is not encrypted"


def _covers_ssh(port_range: str) -> bool:
    low, _, high = port_range.partition("/")
    try:
        return low == "-1" or int(low) <= 22 <= int(high or low)
    except ValueError:
        return False


@resource_policy(
    name="alicloud-ecs-security-group-disallow-open-ssh",
    types=(SECURITY_GROUP_RULE,),
    severity="high",
    description="No security group rule may admit SSH (port 22) from the internet.",
    remediation="Remove the 0.0.0.0/0 ingress on port 22; use Cloud Assistant or a bastion host.",
    config=CIDR_SETTINGS,
)
def disallow_open_ssh(r: Subject) -> Iterator[str]:
    cidrs = [str(c) for c in (get(r.props, "cidrIp"), get(r.props, "ipv6CidrIp")) if c]
    protocol = str(get(r.props, "ipProtocol", default="")).lower()
    if (
        get(r.props, "type") == "ingress"
        and get(r.props, "policy", default="accept") == "accept"
        and protocol in ("tcp", "all")
        and cidrs
        and _covers_ssh(str(get(r.props, "portRange", default="-1/-1")))
        and (wide := open_ranges(cidrs, r.settings))
    ):
        yield f"ingress admits SSH (port 22) from the internet: {'; '.join(wide)}"


POLICIES = (
    disallow_public_endpoint,
    secrets_encrypted,
    control_plane_logging,
    nodepool_disallow_public_ip,
    nodepool_encrypted_disks,
    disallow_open_ssh,
)
