"""A private ACK Pro control plane with encrypted secrets, RRSA, and its logs kept in SLS.

The AlicloudAckCluster component.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_alicloud as alicloud

from lepton_infra.components.alicloud.kubeconfig import exec_kubeconfig
from lepton_infra.components.args import refuse_args
from lepton_infra.validation import SLS_RETENTION_DAYS, ack_version, at, cidr, matches, within

# Every control-plane component ACK can ship to SLS.
CONTROL_PLANE_LOG_COMPONENTS = ("apiserver", "kcm", "scheduler", "ccm", "controlplane-events")
# Service CIDRs to try, in order: the first that does not overlap the VPC is used.
_SERVICE_CIDRS = ("172.21.0.0/20", "192.168.240.0/20", "10.255.240.0/20")


@dataclass(frozen=True)
class AlicloudAckClusterArgs:
    """The inputs of an AlicloudAckCluster."""

    cluster_name: str
    """The ACK cluster's name: lowercase letters, digits and hyphens, starting with a letter or digit,
    since its first 40 characters also name the cluster's SLS log project."""
    region: str
    """The cluster's region, e.g. ``cn-hangzhou``: the credential plugin in the kubeconfig asks this region's
    ACK API."""
    ack_version: str
    """The full ACK release the control plane is pinned to, e.g. ``1.33.1-aliyun.1``, of a Kubernetes minor
    version the platform supports. ACK upgrades only when this changes."""
    vpc_cidr: str
    """The VPC's range (an AlicloudNetwork's ``cidr``): the cluster's service range is chosen outside it, as
    ACK requires."""
    node_vswitch_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """The nodes' vSwitches (an AlicloudNetwork's ``node_vswitch_ids``)."""
    pod_vswitch_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """The pods' vSwitches, for Terway (an AlicloudNetwork's ``pod_vswitch_ids``)."""
    kms_key_id: pulumi.Input[str]
    """The KMS key Kubernetes secrets are envelope-encrypted with (an AlicloudKmsKey's ``key_id``)."""
    account_id: pulumi.Input[str]
    """The Alibaba Cloud account ID: SLS project names are unique per region across all accounts, and the
    account ID keeps the cluster's unique."""
    log_retention_days: int = 90
    """Days SLS keeps the control-plane and audit logs: 1 to 3650."""
    deletion_protection: bool = True
    """ACK refuses to delete the cluster while this is on, whatever deletes it; turn it off, apply, then
    delete."""
    protect: bool = True
    """Protect the SLS log project (and the audit trail in it) from deletion by Pulumi."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the cluster and its log project."""

    def __post_init__(self) -> None:
        refuse_args(
            self,
            [
                *at("cluster_name", matches(self.cluster_name, r"[a-z0-9][a-z0-9-]*", SLS_NAMED)),
                *at("ack_version", ack_version(self.ack_version)),
                *at("vpc_cidr", cidr(self.vpc_cidr)),
                *at("log_retention_days", within(self.log_retention_days, *SLS_RETENTION_DAYS, "days")),
            ],
        )


# The cluster's name begins the name of its SLS project, and SLS project names are lowercase letters, digits
# and hyphens starting with a letter or digit (Simple Log Service API reference, CreateProject).
SLS_NAMED = "a cluster name that can begin an SLS project name: lowercase letters, digits and '-', not first"


def service_cidr(vpc_cidr: str) -> str:
    """A Service CIDR outside the VPC, as ACK requires."""
    vpc = ipaddress.IPv4Network(vpc_cidr)
    return next(c for c in _SERVICE_CIDRS if not vpc.overlaps(ipaddress.IPv4Network(c)))


def addons() -> list[alicloud.cs.ManagedKubernetesAddonArgs]:
    """Terway with network policy (pods get VPC addresses; NetworkPolicy is enforced), the CSI driver for
    disks, and the pod-identity webhook that mounts RRSA tokens into annotated service accounts' pods."""
    terway = {"IPVlan": "false", "NetworkPolicy": "true", "ENITrunking": "false"}
    return [
        alicloud.cs.ManagedKubernetesAddonArgs(name="terway-eniip", config=json.dumps(terway)),
        alicloud.cs.ManagedKubernetesAddonArgs(name="csi-plugin"),
        alicloud.cs.ManagedKubernetesAddonArgs(name="managed-csiprovisioner"),
        alicloud.cs.ManagedKubernetesAddonArgs(name="ack-pod-identity-webhook"),
    ]


class AlicloudAckCluster(pulumi.ComponentResource):
    """An ACK Pro (``ack.pro.small``) cluster at a pinned release: its API server has only an intranet
    endpoint (no internet SLB, no EIP), Kubernetes secrets are envelope-encrypted with the site's KMS key,
    RRSA gives workloads RAM roles per service account, control-plane and audit logs go to an SLS project
    of our own with a set retention, and deletion protection is on.

    ``kubeconfig`` reaches the intranet endpoint and holds no credential: ``ack-ram-tool`` fetches one
    when needed (``kubeconfig``), so a later refresh or destroy never meets an expired certificate.
    """

    cluster_id: pulumi.Output[str]
    """ID of the cluster: an AlicloudNodePool's ``cluster_id``."""
    oidc_provider_arn: pulumi.Output[str]
    """ARN of the cluster's RAM OIDC provider (RRSA): an AlicloudWorkloadRole's ``oidc_provider_arn``."""
    oidc_issuer_url: pulumi.Output[str]
    """The cluster's RRSA token issuer URL: an AlicloudWorkloadRole's ``oidc_issuer_url``."""
    kubeconfig: pulumi.Output[str]
    """A kubeconfig for the cluster's intranet endpoint that holds no credential: ``ack-ram-tool`` fetches a
    short-lived one when needed, with the caller's Alibaba Cloud identity."""

    def __init__(
        self, name: str, args: AlicloudAckClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("lepton:alicloud:AckCluster", name, None, opts)
        logs = alicloud.log.Project(
            f"{name}-logs",
            alicloud.log.ProjectArgs(
                project_name=pulumi.Output.concat(f"{args.cluster_name[:40]}-", args.account_id),
                description=f"control-plane and audit logs of ACK cluster {args.cluster_name}",
                tags=dict(args.tags),
            ),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        cluster = alicloud.cs.ManagedKubernetes(
            f"{name}-ack",
            alicloud.cs.ManagedKubernetesArgs(
                name=args.cluster_name,
                cluster_spec="ack.pro.small",
                version=args.ack_version,
                vswitch_ids=args.node_vswitch_ids,
                pod_vswitch_ids=args.pod_vswitch_ids,
                service_cidr=service_cidr(args.vpc_cidr),
                # The network module owns egress; a second NAT gateway would only add cost and addresses.
                new_nat_gateway=False,
                slb_internet_enabled=False,
                addons=addons(),
                proxy_mode="ipvs",
                disable_encryption=False,
                encryption_provider_key=args.kms_key_id,
                enable_rrsa=True,
                control_plane_log_project=logs.project_name,
                control_plane_log_components=list(CONTROL_PLANE_LOG_COMPONENTS),
                control_plane_log_ttl=str(args.log_retention_days),
                audit_log_config=alicloud.cs.ManagedKubernetesAuditLogConfigArgs(
                    enabled=True, sls_project_name=logs.project_name
                ),
                # Keep CA and client keys out of the cluster's state.
                skip_set_certificate_authority=True,
                deletion_protection=args.deletion_protection,
                tags=dict(args.tags),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Only the cluster CA is taken from the credential (the cluster's own CA outputs are deprecated and
        # left empty by skip_set_certificate_authority): its client certificate never reaches any state.
        authority = alicloud.cs.get_cluster_credential_output(
            cluster_id=cluster.id, opts=pulumi.InvokeOutputOptions(parent=self)
        ).certificate_authorities.apply(lambda cas: cas[0].cluster_cert)
        # The cluster has no internet endpoint (slb_internet_enabled=False): the intranet one is the one.
        server = cluster.connections.apply(lambda connections: connections[0].api_server_intranet or "")
        self.cluster_id = cluster.id
        self.oidc_provider_arn = cluster.rrsa_metadata.apply(lambda m: m.ram_oidc_provider_arn or "")
        self.oidc_issuer_url = cluster.rrsa_metadata.apply(lambda m: m.rrsa_oidc_issuer_url or "")
        self.kubeconfig = pulumi.Output.all(cluster.id, server, authority).apply(
            lambda parts: exec_kubeconfig(parts[0], parts[1], parts[2], args.region)
        )
        self.register_outputs(
            {
                "cluster_id": self.cluster_id,
                "oidc_provider_arn": self.oidc_provider_arn,
                "kubeconfig": self.kubeconfig,
            }
        )
