"""The AWS components of the package: network, KMS key, ECR, artifact bucket, EKS cluster, IRSA roles.

What gives the cluster nodes (node groups, add-ons, Karpenter, EFA) is in ``aws_nodes``. Each builds the
component of the same name in ``lepton_infra.components.aws``. Resources go through the AWS
provider the program passes in the component's ``providers`` option (region, default tags): pass one. Read by
Pulumi's analyzer: no ``from __future__ import annotations`` here.
"""

from typing import Any, NotRequired, TypedDict, get_args

import pulumi

from lepton_infra.blueprint.site_aws import RoleArn
from lepton_infra.components.aws import cluster, identity, keys, network, registry, storage
from lepton_infra.package.base import PackageComponent
from lepton_infra.package.inputs import require_cidrs, require_pattern

# What an IAM role ARN looks like, as the platform spec's ``assume_role_arn`` holds it.
ROLE_ARN_PATTERN: str = get_args(RoleArn)[1].pattern


class AwsNetworkArgs(TypedDict):
    cidr: str
    """The VPC's IPv4 range, e.g. 10.20.0.0/16: each zone's private subnet takes a quarter of it (pods get VPC
    addresses); the small public subnets (NAT, internet-facing load balancers) come from the last quarter."""
    zone_count: NotRequired[int]
    """Availability zones to span, the region's first available ones. Default: 2."""
    cluster_name: NotRequired[str]
    """The EKS cluster the subnets serve: tags them so the AWS Load Balancer Controller finds them."""
    nat_gateway_per_zone: NotRequired[bool]
    """A NAT gateway in every zone, so egress survives a zone's outage, instead of one. Default: false."""
    flow_log_kms_key_arn: NotRequired[pulumi.Input[str]]
    """KMS key (e.g. an AwsKmsKey's arn) that encrypts the flow-log group; CloudWatch's own key if omitted."""
    flow_log_retention_days: NotRequired[int]
    """Days VPC flow logs are kept. Default: 90."""
    tags: NotRequired[dict[str, str]]
    """Tags on every resource, besides the provider's default tags."""


class AwsNetwork(PackageComponent):
    """A VPC with one private and one public subnet per zone, NAT egress, a locked-down default security
    group, and flow logs (all traffic) in CloudWatch. Nodes live only in the private subnets and no subnet
    gives out public IPs; public subnets carry only NAT gateways and internet-facing load balancers."""

    vpc_id: pulumi.Output[str]
    """ID of the VPC."""
    private_subnet_ids: pulumi.Output[list[str]]
    """The private subnets, one per zone: where the cluster and its nodes go."""
    public_subnet_ids: pulumi.Output[list[str]]
    """The public subnets, one per zone: NAT gateways and internet-facing load balancers only."""

    _args = network.AwsNetworkArgs

    def __init__(self, name: str, args: AwsNetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        built = self.prepare(args)
        self.publish(network.AwsNetwork(name, built, self.start(name, opts)))

    @classmethod
    def build(cls, values: dict[str, Any]) -> Any:
        require_cidrs(values, "cidr")
        return super().build(values)


class AwsKmsKeyArgs(TypedDict):
    description: str
    """What the key protects, as the KMS console shows it."""
    alias: str
    """The key's alias, without the ``alias/`` prefix."""
    allow_cloudwatch_logs: NotRequired[bool]
    """Let CloudWatch Logs in this region encrypt log groups with the key (EKS control-plane logs). Default:
    true."""
    allow_autoscaling: NotRequired[bool]
    """Let EC2 Auto Scaling launch nodes whose volumes use the key (managed node groups need it). Default:
    true."""
    protect: NotRequired[bool]
    """Protect the key from deletion by Pulumi. Default: true."""
    tags: NotRequired[dict[str, str]]
    """Tags on the key."""


class AwsKmsKey(PackageComponent):
    """A symmetric KMS key with yearly rotation, a 30-day deletion window and an alias. Its key policy names
    only this account's root (IAM policies decide access) and the AWS services that must use it; never a ``*``
    principal.

    With ``allowAutoscaling`` the policy names the account's AutoScaling service-linked role, which KMS
    refuses while the role does not exist: in an account that never had it, create it
    (``aws.iam.ServiceLinkedRole``, service autoscaling.amazonaws.com) and give it in this component's
    ``dependsOn`` option."""

    arn: pulumi.Output[str]
    """ARN of the key: what EKS, ECR, S3, EBS and CloudWatch Logs are given."""
    key_id: pulumi.Output[str]
    """ID of the key."""
    alias_name: pulumi.Output[str]
    """The alias, ``alias/<alias>``."""

    _args = keys.AwsKmsKeyArgs
    # `depends_on` (resources of any type the key waits for) has no schema type. A program orders the key
    # with the component's own `dependsOn` option instead: the engine constructs the component only once
    # those resources exist, and its children after it.
    _left_out = frozenset({"depends_on"})

    def __init__(self, name: str, args: AwsKmsKeyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        built = self.prepare(args)
        self.publish(keys.AwsKmsKey(name, built, self.start(name, opts)))


class AwsEcrRepositoryArgs(TypedDict):
    kms_key_arn: pulumi.Input[str]
    """KMS key that encrypts the images (e.g. an AwsKmsKey's arn)."""
    repository_name: NotRequired[str]
    """ECR repository name, e.g. lepton/train; the component's name if omitted."""
    keep_tagged_images: NotRequired[int]
    """Tagged images kept; older ones expire (pin what runs by digest). Default: 100."""
    untagged_expiry_days: NotRequired[int]
    """Days before an untagged image expires. Default: 14."""
    protect: NotRequired[bool]
    """Protect the repository from deletion by Pulumi. Default: true."""
    tags: NotRequired[dict[str, str]]
    """Tags on the repository."""


class AwsEcrRepository(PackageComponent):
    """A private ECR repository with immutable tags, scan on push, KMS encryption and a lifecycle policy."""

    arn: pulumi.Output[str]
    """ARN of the repository."""
    repository_url: pulumi.Output[str]
    """``<account>.dkr.ecr.<region>.amazonaws.com/<name>``: where images are pushed and pulled."""
    registry_id: pulumi.Output[str]
    """The account ID of the registry."""

    _args = registry.AwsEcrRepositoryArgs

    def __init__(
        self, name: str, args: AwsEcrRepositoryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        built = self.prepare(args)
        self.publish(registry.AwsEcrRepository(name, built, self.start(name, opts)))


class AwsArtifactBucketArgs(TypedDict):
    kms_key_arn: pulumi.Input[str]
    """KMS key for SSE-KMS (e.g. an AwsKmsKey's arn)."""
    noncurrent_version_expiry_days: NotRequired[int]
    """Days an overwritten or deleted object version is kept. Default: 30."""
    access_log_retention_days: NotRequired[int]
    """Days the bucket's access logs are kept in the site's log bucket. Default: 365."""
    protect: NotRequired[bool]
    """Protect the bucket from deletion by Pulumi. Default: true."""
    tags: NotRequired[dict[str, str]]
    """Tags on the bucket."""


class AwsArtifactBucket(PackageComponent):
    """An S3 bucket for checkpoints and models: versioned, SSE-KMS with a bucket key, every public-access
    block on, ACLs off (owner enforced), and a policy that refuses any request without TLS."""

    arn: pulumi.Output[str]
    """ARN of the bucket."""
    bucket_name: pulumi.Output[str]
    """Name of the bucket."""
    uri: pulumi.Output[str]
    """``s3://<bucket>``, as workloads (fsspec) address it."""

    _args = storage.AwsArtifactBucketArgs

    def __init__(
        self, name: str, args: AwsArtifactBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        built = self.prepare(args)
        self.publish(storage.AwsArtifactBucket(name, built, self.start(name, opts)))


class AwsEksClusterArgs(TypedDict):
    cluster_name: str
    """Name of the EKS cluster."""
    kubernetes_version: str
    """Kubernetes minor version, e.g. 1.33: EKS upgrades only when it changes."""
    subnet_ids: pulumi.Input[list[pulumi.Input[str]]]
    """Private subnets of the control plane's network interfaces (e.g. an AwsNetwork's privateSubnetIds)."""
    kms_key_arn: pulumi.Input[str]
    """KMS key for envelope encryption of Kubernetes secrets and for the control-plane log group."""
    api_allowlist: NotRequired[list[str]]
    """CIDRs that may reach the API endpoint publicly; empty keeps the endpoint private to the VPC."""
    admin_role_arns: NotRequired[list[str]]
    """IAM roles given cluster-admin through EKS access entries (no aws-auth ConfigMap)."""
    log_retention_days: NotRequired[int]
    """Days control-plane logs are kept. Default: 90."""
    deletion_protection: NotRequired[bool]
    """EKS refuses to delete the cluster while this is on. Default: true."""
    bootstrap_self_managed_addons: NotRequired[bool]
    """Let EKS install its unmanaged aws-node (VPC CNI), kube-proxy and CoreDNS. Off, nodes have no network
    until the managed add-ons are installed (AwsEksAddons), which is what lets the VPC CNI enforce
    NetworkPolicy. Only a new cluster can change it: a change replaces the cluster. Default: false."""
    aws_profile: NotRequired[str]
    """Named AWS CLI profile the kubeconfig's ``aws eks get-token`` signs with: the AWS provider's, so the
    Kubernetes components act as the principal that created the cluster (its first admin). The ambient
    credentials if omitted."""
    assume_role_arn: NotRequired[str]
    """Role the kubeconfig's ``aws eks get-token --role-arn`` assumes: the one the AWS provider assumes, for
    the same reason as awsProfile."""
    tags: NotRequired[dict[str, str]]
    """Tags on every resource."""


class AwsEksCluster(PackageComponent):
    """An EKS control plane at a pinned version: secrets encrypted with a customer key, every control-plane
    log type kept in an encrypted log group, access entries for admins, an OIDC provider for IRSA, and a
    private API endpoint unless ``apiAllowlist`` names who may reach it. Also creates the node role node
    groups use.

    EKS installs no add-ons of its own unless ``bootstrapSelfManagedAddons``: give the cluster AwsEksAddons,
    ``beforeNodes`` (vpc-cni with NetworkPolicy enforcement, kube-proxy) ahead of its first node group and
    ``afterSystemPool`` (CoreDNS, metrics-server) once that group exists."""

    cluster_name: pulumi.Output[str]
    """Name of the cluster."""
    arn: pulumi.Output[str]
    """ARN of the cluster (what AwsKarpenter takes)."""
    endpoint: pulumi.Output[str]
    """URL of the Kubernetes API server."""
    certificate_authority: pulumi.Output[str]
    """The cluster's CA certificate, base64-encoded."""
    security_group_id: pulumi.Output[str]
    """The security group EKS puts on the control plane and on managed nodes: name it among a node group's
    securityGroupIds when the group names its own network interfaces."""
    oidc_provider_arn: pulumi.Output[str]
    """ARN of the IAM OIDC provider: what AwsWorkloadRole trusts."""
    oidc_issuer: pulumi.Output[str]
    """The cluster's OIDC issuer without ``https://``."""
    node_role_arn: pulumi.Output[str]
    """ARN of the IAM role for managed node groups."""
    kubeconfig: pulumi.Output[str]
    """A kubeconfig (secret) that gets short-lived tokens from ``aws eks get-token``; no static key."""

    _args = cluster.AwsEksClusterArgs

    def __init__(
        self, name: str, args: AwsEksClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        built = self.prepare(args)
        self.publish(cluster.AwsEksCluster(name, built, self.start(name, opts)))

    @classmethod
    def build(cls, values: dict[str, Any]) -> Any:
        require_pattern(values, "assume_role_arn", ROLE_ARN_PATTERN, "an IAM role ARN")
        return super().build(values)


class AwsWorkloadRoleArgs(TypedDict):
    oidc_provider_arn: pulumi.Input[str]
    """ARN of the cluster's IAM OIDC provider (an AwsEksCluster's oidcProviderArn)."""
    oidc_issuer: pulumi.Input[str]
    """The cluster's issuer without ``https://`` (an AwsEksCluster's oidcIssuer)."""
    namespace: str
    """Namespace of the service account, e.g. ml."""
    service_account: str
    """Name of the service account; a TrainingJob's or InferenceService's is the workload's name."""
    bucket_arn: NotRequired[pulumi.Input[str]]
    """Artifact bucket whose objects the role may read and write."""
    repository_arns: NotRequired[list[pulumi.Input[str]]]
    """ECR repositories the role may pull from."""
    kms_key_arn: NotRequired[pulumi.Input[str]]
    """KMS key the role may use for those objects."""
    tags: NotRequired[dict[str, str]]
    """Tags on the role."""


class AwsWorkloadRole(PackageComponent):
    """An IAM role for one Kubernetes service account (IRSA): it trusts only the cluster's OIDC tokens for
    exactly ``system:serviceaccount:<namespace>:<name>`` with audience sts.amazonaws.com, and may only use the
    bucket, repositories and key it is given, each by name. A workload takes it through its
    ``serviceAccountAnnotations``: ``eks.amazonaws.com/role-arn: <arn>``."""

    arn: pulumi.Output[str]
    """ARN of the role."""
    role_name: pulumi.Output[str]
    """Name of the role."""

    _args = identity.AwsWorkloadRoleArgs

    def __init__(
        self, name: str, args: AwsWorkloadRoleArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        built = self.prepare(args)
        self.publish(identity.AwsWorkloadRole(name, built, self.start(name, opts)))


COMPONENTS: list[type[pulumi.ComponentResource]] = [
    AwsNetwork,
    AwsKmsKey,
    AwsEcrRepository,
    AwsArtifactBucket,
    AwsEksCluster,
    AwsWorkloadRole,
]
