"""The Alibaba Cloud components of the package: network, KMS key, registry, OSS bucket, ACK, node pools, RRSA.

Each builds the component of the same name in ``lepton_infra.components.alicloud``. Resources go through the
alicloud provider the program passes in the component's ``providers`` option (region): pass one. Read by
Pulumi's analyzer: no ``from __future__ import annotations`` here.
"""

from types import SimpleNamespace
from typing import Any, NotRequired, TypedDict

import pulumi

from lepton_infra.components.alicloud import cluster, identity, keys, network, node_pool, registry, storage
from lepton_infra.package.base import PackageComponent
from lepton_infra.package.inputs import require_cidrs, require_node_range


class AlicloudNetworkArgs(TypedDict):
    cidr: str
    """The VPC's IPv4 range, e.g. 10.40.0.0/16: each zone's pod vSwitch takes a quarter (Terway gives pods VPC
    addresses); the node vSwitches share the last quarter."""
    zone_ids: NotRequired[list[str]]
    """Zones to span (2 or 3), e.g. where GPU stock is; the region's first zoneCount zones if omitted."""
    zone_count: NotRequired[int]
    """Zones to span when zoneIds is empty: 2 or 3. Default: 2."""
    tags: NotRequired[dict[str, str]]
    """Tags on every resource."""


class AlicloudNetwork(PackageComponent):
    """A VPC with a node and a pod vSwitch per zone whose traffic reaches the internet only through one
    enhanced NAT gateway with one EIP; nothing in it gets a public address, nothing is reachable from the
    internet."""

    vpc_id: pulumi.Output[str]
    """ID of the VPC."""
    zone_ids: pulumi.Output[list[str]]
    """The zones the vSwitches are in."""
    node_vswitch_ids: pulumi.Output[list[str]]
    """The nodes' vSwitches, one per zone."""
    pod_vswitch_ids: pulumi.Output[list[str]]
    """The pods' vSwitches (Terway), one per zone."""
    egress_ip: pulumi.Output[str]
    """The EIP all egress leaves from (for allowlists elsewhere)."""

    _args = network.AlicloudNetworkArgs

    def __init__(
        self, name: str, args: AlicloudNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        built = self.prepare(args)
        self.publish(network.AlicloudNetwork(name, built, self.start(name, opts)))

    @classmethod
    def build(cls, values: dict[str, Any]) -> Any:
        require_cidrs(values, "cidr")
        return super().build(values)


class AlicloudKmsKeyArgs(TypedDict):
    description: str
    """What the key protects."""
    alias: str
    """The key's alias, without the ``alias/`` prefix."""
    kms_instance_id: NotRequired[str]
    """The KMS instance (kst-...) to create the key in; without one, the key is the region's one default key
    (one per region and account)."""
    pending_window_days: NotRequired[int]
    """Days (7 to 366) scheduled deletion waits before the key, and all it encrypts, is gone. Default: 30."""
    protect: NotRequired[bool]
    """Protect the key from deletion, by Pulumi and by KMS's own deletion protection. Default: true."""
    tags: NotRequired[dict[str, str]]
    """Tags on the key."""


class AlicloudKmsKey(PackageComponent):
    """A symmetric AES-256 KMS key with yearly automatic rotation, a pending-deletion window, deletion
    protection and an alias. RAM policies alone decide who uses it."""

    key_id: pulumi.Output[str]
    """ID of the key: what ACK, disks and OSS are given."""
    arn: pulumi.Output[str]
    """ARN of the key: what RAM policies name."""
    alias_name: pulumi.Output[str]
    """The alias, ``alias/<alias>``."""

    _args = keys.AlicloudKmsKeyArgs

    def __init__(
        self, name: str, args: AlicloudKmsKeyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        built = self.prepare(args)
        self.publish(keys.AlicloudKmsKey(name, built, self.start(name, opts)))


class AlicloudContainerRegistryArgs(TypedDict):
    instance_name: str
    """3 to 30 lowercase letters, digits and hyphens; it also names the registry's domains."""
    region: str
    """Region of the instance, e.g. cn-hangzhou: part of the VPC domain nodes pull from."""
    namespace: str
    """The one namespace of the site's repositories."""
    repositories: list[str]
    """Repositories to create in the namespace, e.g. [train, serve]."""
    vpc_id: pulumi.Input[str]
    """VPC of the registry's endpoint."""
    vswitch_id: pulumi.Input[str]
    """vSwitch of the registry's endpoint."""
    edition: NotRequired[str]
    """Enterprise Edition instance type: Basic, Standard or Advanced. Default: "Standard"."""
    subscription_months: NotRequired[int]
    """Months per subscription period, as Container Registry sells them (1, 2, 3, 6, 12, 24, 36, 48 or 60); it
    renews itself. Default: 12."""
    protect: NotRequired[bool]
    """Protect the instance, namespace and repositories from deletion by Pulumi. Default: true."""
    tags: NotRequired[dict[str, str]]
    """Tags on the instance."""


class AlicloudContainerRegistry(PackageComponent):
    """A Container Registry Enterprise Edition instance reached only from the site's VPC: one private
    namespace (no repositories created on push), private repositories with immutable tags, a scan rule that
    scans every pushed image, and a VPC endpoint; its internet endpoint stays disabled."""

    instance_id: pulumi.Output[str]
    """ID of the registry instance."""
    host: pulumi.Output[str]
    """The VPC domain nodes pull from: ``<instance>-registry-vpc.<region>.cr.aliyuncs.com``."""
    repository_names: pulumi.Output[list[str]]
    """Names of the repositories."""

    _args = registry.AlicloudContainerRegistryArgs

    def __init__(
        self, name: str, args: AlicloudContainerRegistryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        built = self.prepare(args)
        instance = registry.AlicloudContainerRegistry(name, built, self.start(name, opts))
        names = pulumi.Output.all(*instance.repository_names)
        self.publish(
            SimpleNamespace(instance_id=instance.instance_id, host=instance.host, repository_names=names)
        )


class AlicloudArtifactBucketArgs(TypedDict):
    bucket_name: pulumi.Input[str]
    """Global OSS name: 3 to 63 lowercase letters, digits and hyphens."""
    account_id: pulumi.Input[str]
    """The account's ID, for the bucket policy's resource names."""
    kms_key_id: pulumi.Input[str]
    """KMS key for SSE-KMS (an AlicloudKmsKey's keyId)."""
    noncurrent_version_expiry_days: NotRequired[int]
    """Days an overwritten or deleted object version is kept. Default: 30."""
    access_log_retention_days: NotRequired[int]
    """Days the bucket's access logs are kept in the site's log bucket. Default: 365."""
    protect: NotRequired[bool]
    """Protect the bucket from deletion by Pulumi. Default: true."""
    tags: NotRequired[dict[str, str]]
    """Tags on the bucket."""


class AlicloudArtifactBucket(PackageComponent):
    """A zone-redundant OSS bucket for checkpoints and models: private ACL, public access blocked, versioning,
    SSE-KMS with the site's key, and a bucket policy that refuses every request made without TLS."""

    bucket_name: pulumi.Output[str]
    """Name of the bucket."""
    uri: pulumi.Output[str]
    """``oss://<bucket>``, as workloads (fsspec) address it."""
    endpoint: pulumi.Output[str]
    """The bucket's HTTPS intranet endpoint; workloads read it from OSS_ENDPOINT."""

    _args = storage.AlicloudArtifactBucketArgs

    def __init__(
        self, name: str, args: AlicloudArtifactBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        built = self.prepare(args)
        self.publish(storage.AlicloudArtifactBucket(name, built, self.start(name, opts)))


class AlicloudAckClusterArgs(TypedDict):
    cluster_name: str
    """Name of the ACK cluster."""
    region: str
    """Region of the cluster, e.g. cn-hangzhou: its kubeconfig's credential plugin asks this region's ACK."""
    ack_version: str
    """The full ACK release, e.g. 1.33.1-aliyun.1: ACK upgrades only when it changes."""
    vpc_cidr: str
    """The VPC's range; the Service CIDR is chosen outside it."""
    node_vswitch_ids: pulumi.Input[list[pulumi.Input[str]]]
    """vSwitches of the control plane's endpoints and nodes (an AlicloudNetwork's nodeVswitchIds)."""
    pod_vswitch_ids: pulumi.Input[list[pulumi.Input[str]]]
    """vSwitches Terway takes pod addresses from (an AlicloudNetwork's podVswitchIds)."""
    kms_key_id: pulumi.Input[str]
    """KMS key that envelope-encrypts Kubernetes secrets."""
    account_id: pulumi.Input[str]
    """The account's ID: it keeps the cluster's SLS log project name unique."""
    log_retention_days: NotRequired[int]
    """Days control-plane and audit logs are kept. Default: 90."""
    deletion_protection: NotRequired[bool]
    """ACK refuses to delete the cluster while this is on. Default: true."""
    protect: NotRequired[bool]
    """Protect the log project from deletion by Pulumi. Default: true."""
    tags: NotRequired[dict[str, str]]
    """Tags on every resource."""


class AlicloudAckCluster(PackageComponent):
    """An ACK Pro cluster at a pinned release: intranet-only API server (no internet SLB, no EIP), secrets
    envelope-encrypted with the site's key, RRSA for per-service-account RAM roles, Terway with network
    policy, control-plane and audit logs in an SLS project of its own with retention, deletion protection."""

    cluster_id: pulumi.Output[str]
    """ID of the cluster."""
    oidc_provider_arn: pulumi.Output[str]
    """ARN of the cluster's RAM OIDC provider: what AlicloudWorkloadRole trusts."""
    oidc_issuer_url: pulumi.Output[str]
    """The cluster's RRSA token issuer URL."""
    kubeconfig: pulumi.Output[str]
    """A kubeconfig for the intranet endpoint whose credentials come from ack-ram-tool's credential plugin (no
    client certificate in the state): whoever deploys through it needs ack-ram-tool and RAM credentials."""

    _args = cluster.AlicloudAckClusterArgs

    def __init__(
        self, name: str, args: AlicloudAckClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        built = self.prepare(args)
        self.publish(cluster.AlicloudAckCluster(name, built, self.start(name, opts)))

    @classmethod
    def build(cls, values: dict[str, Any]) -> Any:
        require_cidrs(values, "vpc_cidr")
        return super().build(values)


class AlicloudNodeTaint(TypedDict):
    """A taint on every node of a pool."""

    key: str
    """Taint key, e.g. nvidia.com/gpu."""
    value: str
    """Taint value, e.g. present."""
    effect: NotRequired[str]
    """NoSchedule, PreferNoSchedule or NoExecute. Default: "NoSchedule"."""


class AlicloudNodePoolArgs(TypedDict):
    cluster_id: pulumi.Input[str]
    """ID of the ACK cluster."""
    vswitch_ids: pulumi.Input[list[pulumi.Input[str]]]
    """vSwitches the nodes go in (an AlicloudNetwork's nodeVswitchIds)."""
    instance_type: str
    """ECS instance type, e.g. ecs.gn8v.48xlarge."""
    min_nodes: int
    """Fewest nodes; 0 lets a GPU pool scale to nothing."""
    max_nodes: int
    """Most nodes the autoscaler may run."""
    kms_key_id: pulumi.Input[str]
    """KMS key that encrypts the nodes' system and data disks."""
    gpu: NotRequired[bool]
    """GPU instances: ACK installs the NVIDIA driver and device plugin. Default: false."""
    spot: NotRequired[bool]
    """Spot instances at the market price, replaced ahead of reclamation. Default: false."""
    disk_gib: NotRequired[int]
    """System disk size in GiB. Default: 100."""
    data_disk_gib: NotRequired[int]
    """Data disk (images and ephemeral storage) size in GiB. Default: 200."""
    labels: NotRequired[dict[str, str]]
    """Kubernetes labels on every node (a workload's cluster target selects GPU pools by them)."""
    taints: NotRequired[list[AlicloudNodeTaint]]
    """Taints on every node."""
    tags: NotRequired[dict[str, str]]
    """Tags on the pool's instances."""


class AlicloudNodePool(PackageComponent):
    """An ACK managed, autoscaling node pool on Alibaba Cloud Linux 3: no public IPs or EIPs, ESSDs encrypted
    by the site key, token-only instance metadata, no login key or password, auto-repair."""

    node_pool_id: pulumi.Output[str]
    """ID of the node pool."""

    _args = node_pool.AlicloudNodePoolArgs
    # `after` (resources of any type the pool waits for) has no schema type; the one a site passes, ACK's
    # node autoscaling configuration, is the site's own and no component of the package.
    _left_out = frozenset({"after"})

    def __init__(
        self, name: str, args: AlicloudNodePoolArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        built = self.prepare(args)
        self.publish(node_pool.AlicloudNodePool(name, built, self.start(name, opts)))

    @classmethod
    def build(cls, values: dict[str, Any]) -> Any:
        require_node_range(values)
        values["taints"] = tuple(node_pool.NodeTaint(**t) for t in values.get("taints", ()))
        return super().build(values)


class AlicloudWorkloadRoleArgs(TypedDict):
    role_name: str
    """Name of the RAM role (at most 64 characters)."""
    oidc_provider_arn: pulumi.Input[str]
    """ARN of the cluster's RAM OIDC provider (an AlicloudAckCluster's oidcProviderArn)."""
    oidc_issuer_url: pulumi.Input[str]
    """The cluster's RRSA issuer URL (an AlicloudAckCluster's oidcIssuerUrl)."""
    namespace: str
    """Namespace of the service account, e.g. ml."""
    service_account: str
    """Name of the service account; a TrainingJob's or InferenceService's is the workload's name."""
    account_id: pulumi.Input[str]
    """The account's ID, for resource names in the role's policy."""
    region: str
    """Region of the registry the role pulls from."""
    bucket_name: NotRequired[pulumi.Input[str]]
    """Artifact bucket whose objects the role may read and write."""
    registry_instance_id: NotRequired[pulumi.Input[str]]
    """Registry instance the role may pull from."""
    repositories: NotRequired[list[str]]
    """Repository paths ``<namespace>/<repository>`` in that instance."""
    kms_key_arn: NotRequired[pulumi.Input[str]]
    """KMS key (its ARN) the role may use for those objects."""
    tags: NotRequired[dict[str, str]]
    """Tags on the role and its policy."""


class AlicloudWorkloadRole(PackageComponent):
    """A RAM role for one Kubernetes service account (RRSA): it accepts only tokens from the cluster's OIDC
    provider with audience sts.aliyuncs.com and subject ``system:serviceaccount:<namespace>:<name>``, and may
    only use the bucket, repositories and key it is given, each by name. A workload takes it through its
    ``serviceAccountAnnotations`` (``pod-identity.alibabacloud.com/role-name: <roleName>``) and ``podLabels``
    (``pod-identity.alibabacloud.com/injection: "on"``)."""

    arn: pulumi.Output[str]
    """ARN of the role."""
    role_name: pulumi.Output[str]
    """Name of the role."""

    _args = identity.AlicloudWorkloadRoleArgs

    def __init__(
        self, name: str, args: AlicloudWorkloadRoleArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        built = self.prepare(args)
        self.publish(identity.AlicloudWorkloadRole(name, built, self.start(name, opts)))


COMPONENTS: list[type[pulumi.ComponentResource]] = [
    AlicloudNetwork,
    AlicloudKmsKey,
    AlicloudContainerRegistry,
    AlicloudArtifactBucket,
    AlicloudAckCluster,
    AlicloudNodePool,
    AlicloudWorkloadRole,
]
