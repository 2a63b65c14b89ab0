"""AwsEksCluster: a private, envelope-encrypted EKS control plane with full audit logging and IRSA."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from lepton_infra.components.args import refuse_args
from lepton_infra.components.aws.identity import CLUSTER_POLICIES, NODE_POLICIES, service_role
from lepton_infra.validation import (
    api_allowlist,
    at,
    cloudwatch_retention_days,
    each,
    eks_cluster_name,
    kubernetes_version,
    role_arn,
    whole,
)

CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")


@dataclass(frozen=True)
class AwsEksClusterArgs:
    """The inputs of an AwsEksCluster."""

    cluster_name: str
    """The EKS cluster's name: 1 to 100 letters, digits, hyphens and underscores, starting with a letter or
    digit, unique in the account and region. It also names the control-plane log group."""
    kubernetes_version: str
    """The Kubernetes minor version the control plane is pinned to, e.g. ``1.33``: one the platform supports
    (its manifests are validated against it). EKS upgrades only when this changes."""
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Private subnets in two zones at least, where EKS puts the control plane's network interfaces, e.g. an
    AwsNetwork's ``private_subnet_ids``."""
    kms_key_arn: pulumi.Input[str]
    """KMS key that encrypts the cluster's Kubernetes secrets (envelope encryption, which cannot be turned off
    once on) and the control-plane log group, e.g. an AwsKmsKey's ``arn``."""
    api_allowlist: Sequence[str] = ()
    """CIDRs that may reach the API endpoint from the internet. Empty (the default) keeps the endpoint private
    to the VPC. The list is judged whole: one that admits everyone (``0.0.0.0/0``, or ranges that add up to
    it) is refused; list the networks that need access."""
    admin_role_arns: Sequence[str] = ()
    """IAM roles given cluster admin through EKS access entries (there is no aws-auth ConfigMap). Whoever
    creates the cluster is an admin too."""
    log_retention_days: int = 90
    """Days the control-plane logs (API, audit, authenticator, controller manager, scheduler) are kept: one
    of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."""
    deletion_protection: bool = True
    """EKS refuses to delete the cluster while this is on, whatever deletes it (Pulumi, the console, the
    CLI); turn it off, apply, then delete."""
    bootstrap_self_managed_addons: bool = False
    """False: EKS installs none of its unmanaged add-ons (aws-node, kube-proxy, CoreDNS); install them as
    managed add-ons (``addons.eks_addons``: vpc-cni and kube-proxy before any node, CoreDNS after), which is
    what lets the VPC CNI enforce NetworkPolicy. Changing it replaces the cluster."""
    aws_profile: str | None = None
    """The AWS CLI profile the kubeconfig's ``aws eks get-token`` signs with: give the AWS provider's, so the
    Kubernetes layer acts as the principal that created the cluster (its first admin). None: the ambient
    credentials."""
    assume_role_arn: str | None = None
    """An IAM role ``aws eks get-token`` assumes before it signs, as the AWS provider does: the provider's
    ``assumeRole``, where it has one."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the cluster, its roles, log group and OIDC provider, besides the provider's default tags."""

    def __post_init__(self) -> None:
        refuse_args(
            self,
            [
                *at("cluster_name", eks_cluster_name(self.cluster_name)),
                *at("kubernetes_version", kubernetes_version(self.kubernetes_version)),
                # Judged whole: ranges that are each fine may together open the API to everyone.
                *whole("api_allowlist", self.api_allowlist, api_allowlist, str),
                *each("admin_role_arns", self.admin_role_arns, role_arn),
                *at("log_retention_days", cloudwatch_retention_days(self.log_retention_days)),
                *at("assume_role_arn", role_arn(self.assume_role_arn)),
            ],
        )


class AwsEksCluster(pulumi.ComponentResource):
    """An EKS cluster: pinned version, secrets encrypted with a customer key, every control-plane log
    type kept in a KMS-encrypted log group, access entries (no aws-auth ConfigMap), and an OIDC
    provider so workloads get IAM roles per service account.

    By default EKS installs no add-ons of its own (``bootstrapSelfManagedAddons: false``, which only a new
    cluster can change): vpc-cni, kube-proxy and CoreDNS come as managed add-ons (``addons.py``), as the
    site installs them. The cluster waits for its role's policies, so a destroy deletes it before them.
    """

    cluster_name: pulumi.Output[str]
    """The cluster's name, known once EKS has created it (use it, not the input, to order what needs the
    cluster after it)."""
    arn: pulumi.Output[str]
    """ARN of the cluster."""
    endpoint: pulumi.Output[str]
    """URL of the Kubernetes API server (``https://...``)."""
    certificate_authority: pulumi.Output[str]
    """The cluster's CA certificate, base64-encoded PEM, as a kubeconfig's ``certificate-authority-data``
    takes it."""
    security_group_id: pulumi.Output[str]
    """The security group EKS puts on the control plane and on managed nodes."""
    oidc_provider_arn: pulumi.Output[str]
    """ARN of the IAM OIDC provider of the cluster's issuer: the federated principal of workload roles
    (an AwsWorkloadRole's ``oidc_provider_arn``)."""
    oidc_issuer: pulumi.Output[str]
    """The cluster's OIDC issuer without its scheme (``oidc.eks.<region>.amazonaws.com/id/<id>``), as IAM
    condition keys spell it (an AwsWorkloadRole's ``oidc_issuer``)."""
    node_role_arn: pulumi.Output[str]
    """ARN of the role for managed node groups (worker, CNI and registry-pull policies)."""
    node_role_ready: list[pulumi.Resource]
    """The node role and its policy attachments: what a node group depends on, so that nodes never start
    before their permissions exist, and a destroy removes the group before them."""
    kubeconfig: pulumi.Output[str]
    """A kubeconfig for the cluster (a secret) that gets short-lived tokens from ``aws eks get-token``, signed
    as ``aws_profile`` and ``assume_role_arn`` say; it holds no static credential."""

    def __init__(
        self, name: str, args: AwsEksClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("lepton:aws:EksCluster", name, None, opts)
        role = service_role(f"{name}-cluster-role", "eks.amazonaws.com", CLUSTER_POLICIES, args.tags, self)
        node_role = service_role(f"{name}-node-role", "ec2.amazonaws.com", NODE_POLICIES, args.tags, self)
        # EKS would create this group itself with no retention and no encryption; create it first, properly.
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            aws.cloudwatch.LogGroupArgs(
                name=f"/aws/eks/{args.cluster_name}/cluster",
                retention_in_days=args.log_retention_days,
                kms_key_id=args.kms_key_arn,
                tags=dict(args.tags),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        public = bool(args.api_allowlist)
        cluster = aws.eks.Cluster(
            f"{name}-eks",
            aws.eks.ClusterArgs(
                name=args.cluster_name,
                version=args.kubernetes_version,
                role_arn=role.role.arn,
                # Decided once: changing it replaces the cluster. Off by default, so the managed add-ons
                # the site configures (vpc-cni with network policy, kube-proxy, CoreDNS) are the only ones.
                bootstrap_self_managed_addons=args.bootstrap_self_managed_addons,
                vpc_config=aws.eks.ClusterVpcConfigArgs(
                    subnet_ids=args.subnet_ids,
                    endpoint_private_access=True,
                    endpoint_public_access=public,
                    public_access_cidrs=list(args.api_allowlist) if public else None,
                ),
                encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                    provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=args.kms_key_arn),
                    resources=["secrets"],
                ),
                enabled_cluster_log_types=list(CONTROL_PLANE_LOG_TYPES),
                access_config=aws.eks.ClusterAccessConfigArgs(
                    authentication_mode="API",
                    # Whoever runs `pulumi up` must reach the API to deploy the Kubernetes layer.
                    bootstrap_cluster_creator_admin_permissions=True,
                ),
                deletion_protection=args.deletion_protection,
                tags=dict(args.tags),
            ),
            # "Ensure ... explicit dependencies on the IAM Role permissions ... otherwise EKS cannot delete
            # EKS managed EC2 infrastructure such as Security Groups" (pulumi-aws eks.Cluster role_arn).
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group, *role.ready]),
        )
        issuer_url: pulumi.Output[str] = cluster.identities.apply(
            lambda ids: (ids[0].oidcs[0].issuer or "") if ids and ids[0].oidcs else ""
        )
        oidc = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc",
            aws.iam.OpenIdConnectProviderArgs(
                url=issuer_url,
                client_id_lists=["sts.amazonaws.com"],
                tags=dict(args.tags),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self)).partition
        admin_policy = pulumi.Output.concat(
            "arn:", partition, ":eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
        )
        for index, principal in enumerate(args.admin_role_arns):
            entry = aws.eks.AccessEntry(
                f"{name}-admin-{index}",
                aws.eks.AccessEntryArgs(
                    cluster_name=cluster.name, principal_arn=principal, type="STANDARD", tags=dict(args.tags)
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            aws.eks.AccessPolicyAssociation(
                f"{name}-admin-{index}",
                aws.eks.AccessPolicyAssociationArgs(
                    cluster_name=cluster.name,
                    principal_arn=entry.principal_arn,
                    policy_arn=admin_policy,
                    access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )

        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        self.cluster_name = cluster.name
        self.arn = cluster.arn
        self.endpoint = cluster.endpoint
        self.security_group_id = cluster.vpc_config.apply(lambda vpc: vpc.cluster_security_group_id or "")
        self.certificate_authority = cluster.certificate_authority.apply(lambda ca: ca.data or "")
        self.oidc_provider_arn = oidc.arn
        self.oidc_issuer = issuer_url.apply(lambda url: url.removeprefix("https://"))
        self.node_role_arn = node_role.role.arn
        self.node_role_ready = node_role.ready
        identity = TokenIdentity(args.aws_profile, args.assume_role_arn)
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(cluster.name, cluster.endpoint, self.certificate_authority, region).apply(
                lambda v: kubeconfig(v[0], v[1], v[2], v[3], identity=identity)
            )
        )
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "endpoint": self.endpoint,
                "oidc_provider_arn": self.oidc_provider_arn,
                "kubeconfig": self.kubeconfig,
            }
        )


@dataclass(frozen=True)
class TokenIdentity:
    """Who `aws eks get-token` signs as: a named profile, a role to assume, both, or (neither) the ambient
    credentials, exactly as the site's AWS provider is configured."""

    profile: str | None = None
    role_arn: str | None = None

    def args(self) -> list[str]:
        # `--role-arn`: "Assume this role for credentials when signing the token" (AWS CLI eks get-token).
        return ["--role-arn", self.role_arn] if self.role_arn else []

    def env(self) -> list[dict[str, str]]:
        return [{"name": "AWS_PROFILE", "value": self.profile}] if self.profile else []


def kubeconfig(
    cluster_name: str,
    endpoint: str,
    certificate_authority: str,
    region: str,
    identity: TokenIdentity = TokenIdentity(),
) -> str:
    """A kubeconfig that gets short-lived tokens from `aws eks get-token` (no static credentials), signed
    by ``identity``."""
    exec_config: dict[str, object] = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": "aws",
        "args": [
            "eks",
            "get-token",
            "--cluster-name",
            cluster_name,
            "--region",
            region,
            *identity.args(),
            "--output",
            "json",
        ],
        "interactiveMode": "Never",
    }
    if identity.env():
        exec_config["env"] = identity.env()
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": cluster_name,
                    "cluster": {"server": endpoint, "certificate-authority-data": certificate_authority},
                }
            ],
            "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
            "current-context": cluster_name,
            "users": [
                {
                    "name": cluster_name,
                    "user": {"exec": exec_config},
                }
            ],
        }
    )
