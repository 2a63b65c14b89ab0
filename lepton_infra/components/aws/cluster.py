"""AwsEksCluster: a private, envelope-encrypted EKS control plane with full audit logging and IRSA."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from lepton_infra.components.aws.identity import CLUSTER_POLICIES, NODE_POLICIES, service_role
from lepton_infra.validation import api_allowlist, at, refuse

CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")


@dataclass(frozen=True)
class AwsEksClusterArgs:
    cluster_name: str
    kubernetes_version: str
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    kms_key_arn: pulumi.Input[str]
    # Empty keeps the API endpoint private to the VPC; otherwise only these CIDRs reach it publicly.
    api_allowlist: Sequence[str] = ()
    admin_role_arns: Sequence[str] = ()
    log_retention_days: int = 90
    deletion_protection: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        refuse(at("api_allowlist", api_allowlist(self.api_allowlist)))


class AwsEksCluster(pulumi.ComponentResource):
    """An EKS cluster: pinned version, secrets encrypted with a customer key, every control-plane log
    type kept in a KMS-encrypted log group, access entries (no aws-auth ConfigMap), and an OIDC
    provider so workloads get IAM roles per service account."""

    cluster_name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    certificate_authority: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]
    node_role_arn: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    # The security group EKS puts on the control plane's network interfaces (and on managed nodes).
    cluster_security_group_id: pulumi.Output[str]

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
                role_arn=role.arn,
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
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group]),
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
        self.endpoint = cluster.endpoint
        self.certificate_authority = cluster.certificate_authority.apply(lambda ca: ca.data or "")
        self.oidc_provider_arn = oidc.arn
        self.oidc_issuer = issuer_url.apply(lambda url: url.removeprefix("https://"))
        self.node_role_arn = node_role.arn
        self.cluster_security_group_id = cluster.vpc_config.apply(
            lambda vpc: vpc.cluster_security_group_id or ""
        )
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(cluster.name, cluster.endpoint, self.certificate_authority, region).apply(
                lambda values: kubeconfig(*values)
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


def kubeconfig(cluster_name: str, endpoint: str, certificate_authority: str, region: str) -> str:
    """A kubeconfig that gets short-lived tokens from `aws eks get-token` (no static credentials)."""
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
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": [
                                "eks",
                                "get-token",
                                "--cluster-name",
                                cluster_name,
                                "--region",
                                region,
                                "--output",
                                "json",
                            ],
                            "interactiveMode": "Never",
                        }
                    },
                }
            ],
        }
    )
