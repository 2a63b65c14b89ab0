"""Alibaba Cloud ACK: private API, secrets under our KMS key, audit logs, hardened node pools."""

from __future__ import annotations

import json
from collections.abc import Iterator

from lepton_infra.policies.networks import CIDR_SETTINGS, exposed_ports, version_check
from lepton_infra.policies.rule import Outcome, Subject, checkov, cis_ack, resource_policy
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import as_list, get, is_set, is_true

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
    controls=(*cis_ack("Restrict access to the control plane endpoint"),),
)
def disallow_public_endpoint(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    # ACK has no source allowlist on the API server's SLB, so public means open to the internet.
    if get(r.props, "slbInternetEnabled", default=True) is not False:
        yield "the API server has an internet-facing endpoint (slbInternetEnabled)"


@resource_policy(
    name="alicloud-ack-cluster-secrets-encrypted",
    types=(CLUSTER,),
    severity="high",
    description="ACK must encrypt Kubernetes secrets with a customer KMS key.",
    remediation="Set `encryptionProviderKey` to the site's KMS key id.",
    controls=(*cis_ack("Ensure Kubernetes Secrets are encrypted"),),
)
def secrets_encrypted(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
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
    controls=(*cis_ack("Enable audit logs"),),
)
def control_plane_logging(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
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
    controls=(*cis_ack("Ensure clusters are created with private nodes"),),
)
def nodepool_disallow_public_ip(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
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
def nodepool_encrypted_disks(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    if not is_true(get(r.props, "systemDiskEncrypted")):
        yield "the system disk is not encrypted"
    for index, disk in enumerate(as_list(get(r.props, "dataDisks"))):
        if not is_true(get(disk, "encrypted")):
            yield f"data disk {get(disk, 'name', default=index)} is not encrypted"


def _covers(port_range: str, port: int) -> bool:
    low, _, high = port_range.partition("/")
    try:
        return low == "-1" or int(low) <= port <= int(high or low)
    except ValueError:
        return False


@resource_policy(
    name="alicloud-ecs-security-group-disallow-open-ssh",
    types=(SECURITY_GROUP_RULE,),
    severity="high",
    description="No security group rule may admit SSH (port 22) or RDP (port 3389) from the internet.",
    remediation="Remove the 0.0.0.0/0 ingress on port 22 or 3389; use Cloud Assistant or a bastion host.",
    controls=checkov("CKV_ALI_2", "CKV_ALI_3"),
    config=CIDR_SETTINGS,
)
def disallow_open_ssh(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    # One rule per resource here (alicloud.ecs.SecurityGroupRule): its IPv4 and IPv6 sources together.
    cidrs: list[object] = [c for c in (get(r.props, "cidrIp"), get(r.props, "ipv6CidrIp")) if c]
    protocol = str(get(r.props, "ipProtocol", default="")).lower()
    if (
        get(r.props, "type") == "ingress"
        and get(r.props, "policy", default="accept") == "accept"
        and protocol in ("tcp", "all")
        and cidrs
    ):
        port_range = str(get(r.props, "portRange", default="-1/-1"))
        ports = {22: "SSH (port 22)", 3389: "RDP (port 3389)"}
        opened = [(name, cidrs) for port, name in ports.items() if _covers(port_range, port)]
        yield from exposed_ports(opened, ports.values(), settings)


# ACK enforces NetworkPolicy with Terway when the add-on's config sets NetworkPolicy to "true"; Flannel
# does not enforce it (https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/
# use-network-policies).
_TERWAY = frozenset({"terway", "terway-eni", "terway-eniip", "terway-controlplane"})


def _enforces_network_policy(addon: object) -> bool:
    if str(get(addon, "name")) not in _TERWAY:
        return False
    config = get(addon, "config")
    try:
        settings = json.loads(config) if isinstance(config, str) else config
    except ValueError:
        return False
    return str(get(settings, "NetworkPolicy")).lower() == "true"


@resource_policy(
    name="alicloud-ack-cluster-network-policy",
    types=(CLUSTER,),
    severity="high",
    description=(
        "ACK must enforce NetworkPolicy (Terway with NetworkPolicy on), or the platform's policies do "
        "nothing."
    ),
    remediation='Install the `terway-eniip` add-on with config `{"NetworkPolicy": "true"}`.',
    controls=(*cis_ack("Ensure Network Policy is Enabled and set as appropriate"), *checkov("CKV_ALI_26")),
)
def network_policy(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    if not any(_enforces_network_policy(a) for a in as_list(get(r.props, "addons"))):
        yield "no Terway add-on with NetworkPolicy enabled: NetworkPolicies are not enforced"


supported_version = resource_policy(
    name="alicloud-ack-cluster-supported-version",
    types=(CLUSTER,),
    severity="high",
    description="ACK clusters must run a Kubernetes version the cloud still supports.",
    remediation=(
        "Upgrade `version` (https://www.alibabacloud.com/help/en/ack/product-overview/support-for-kubernetes-versions)."
    ),
    config=("minKubernetesVersion",),
)(version_check("version"))


POLICIES = (
    network_policy,
    supported_version,
    disallow_public_endpoint,
    secrets_encrypted,
    control_plane_logging,
    nodepool_disallow_public_ip,
    nodepool_encrypted_disks,
    disallow_open_ssh,
)
