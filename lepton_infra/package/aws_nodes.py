"""What gives an EKS cluster of the package its nodes: managed node groups, the managed add-ons nodes need,
Karpenter's AWS side, and the security group EFA needs.

Each builds the component (or, for the add-ons, the function) of the same name in
``lepton_infra.components.aws``; resources go through the AWS provider the program passes in the
component's ``providers`` option. Read by Pulumi's analyzer: no ``from __future__ import annotations`` here.
"""

from collections import Counter
from enum import StrEnum
from typing import Any, NotRequired, TypedDict

import pulumi

from lepton_infra.components.aws import addons, efa, karpenter, node_group
from lepton_infra.package.base import PackageComponent
from lepton_infra.package.inputs import as_data, require_node_range
from lepton_infra.validation import Problem, refuse


class AwsNodeTaint(TypedDict):
    """A taint on every node of a group, as the EKS API spells it."""

    key: str
    """Taint key, e.g. nvidia.com/gpu."""
    value: str
    """Taint value, e.g. present."""
    effect: NotRequired[str]
    """NO_SCHEDULE, NO_EXECUTE or PREFER_NO_SCHEDULE. Default: "NO_SCHEDULE"."""


class AwsInterfaceType(StrEnum):
    """What a network interface of a node is, as EC2 launch templates spell it."""

    INTERFACE = "interface"
    """An ENA interface (IP networking): what the primary interface must be, or efa."""
    EFA = "efa"
    """An EFA with an ENA interface."""
    EFA_ONLY = "efa-only"
    """The EFA device alone, without an IP address: never the primary interface."""


class AwsNetworkInterface(TypedDict):
    """One network interface of every node of a group: where it sits, and what it is."""

    network_card: int
    """Network card index (0 to the instance type's network cards less one)."""
    device: int
    """Device index on that card."""
    kind: AwsInterfaceType
    """interface, efa or efa-only."""


class AwsManagedNodeGroupArgs(TypedDict):
    cluster_name: pulumi.Input[str]
    """Name of the EKS cluster (an AwsEksCluster's clusterName)."""
    kubernetes_version: str
    """Kubernetes minor version of the nodes; the cluster's."""
    node_role_arn: pulumi.Input[str]
    """IAM role of the nodes (an AwsEksCluster's nodeRoleArn)."""
    subnet_ids: pulumi.Input[list[pulumi.Input[str]]]
    """Private subnets the nodes go in."""
    instance_type: str
    """EC2 instance type, e.g. p5.48xlarge."""
    min_nodes: int
    """Nodes the group runs: nothing autoscales a managed node group (AwsKarpenter grows pools from zero)."""
    max_nodes: int
    """Most nodes the group may have, e.g. while a node is replaced."""
    kms_key_arn: pulumi.Input[str]
    """KMS key that encrypts the nodes' root volumes."""
    ami_type: NotRequired[str]
    """EKS AMI type; AL2023_x86_64_NVIDIA for GPU nodes. Default: "AL2023_x86_64_STANDARD"."""
    spot: NotRequired[bool]
    """Run spot capacity. Default: false."""
    disk_gib: NotRequired[int]
    """Size of each node's root volume in GiB. Default: 100."""
    labels: NotRequired[dict[str, str]]
    """Kubernetes labels on every node (a TrainingJob's cluster target selects GPU pools by them)."""
    taints: NotRequired[list[AwsNodeTaint]]
    """Taints on every node."""
    network_interfaces: NotRequired[list[AwsNetworkInterface]]
    """Each node's network interfaces, e.g. EFA's layout: an interface at card 0 device 0, efa-only at card 0
    device 1 and at device 0 of every further card. EKS's single default interface if omitted."""
    security_group_ids: NotRequired[list[pulumi.Input[str]]]
    """Security groups on every interface; required with networkInterfaces, where EKS adds none itself: name
    the cluster's (an AwsEksCluster's securityGroupId) and, for EFA, an AwsEfaSecurityGroup's."""
    placement_group_name: NotRequired[pulumi.Input[str]]
    """A cluster placement group the nodes launch into (low latency between them, in one zone)."""
    tags: NotRequired[dict[str, str]]
    """Tags on the node group, its launch template, instances and volumes."""


class AwsManagedNodeGroup(PackageComponent):
    """An EKS managed node group behind a hardened launch template: private subnets only, IMDSv2 required at
    hop limit 1 (pods cannot borrow the node's role), an encrypted gp3 root volume, no SSH key, node
    auto-repair, and ``minNodes`` nodes. Optionally EFA interfaces on every network card and a cluster
    placement group.

    A node is Ready only with its role's policies and its CNI: give the group the cluster and the cluster's
    AwsEksAddons (``beforeNodes``) in its ``dependsOn`` option."""

    node_group_name: pulumi.Output[str]
    """Name of the node group."""

    _args = node_group.AwsManagedNodeGroupArgs
    # `depends_on` (resources of any type the group waits for) has no schema type: the program gives them in
    # the component's own `dependsOn` option, after which the engine constructs the component.
    _left_out = frozenset({"depends_on"})

    def __init__(
        self, name: str, args: AwsManagedNodeGroupArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        built = self.prepare(args)
        self.publish(node_group.AwsManagedNodeGroup(name, built, self.start(name, opts)))

    @classmethod
    def build(cls, values: dict[str, Any]) -> Any:
        require_node_range(values)
        values["taints"] = tuple(node_group.NodeTaint(**t) for t in values.get("taints", ()))
        values["network_interfaces"] = _interfaces(values.get("network_interfaces", []))
        return super().build(values)


def _interfaces(given: list[dict[str, Any]]) -> tuple[efa.NetworkInterface, ...]:
    """The interfaces, refused where EC2 would refuse the launch template."""
    problems = []
    for i, nic in enumerate(given):
        # "You can't use an EFA-only network interface as the primary network interface" (EC2 User Guide,
        # https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/efa-acc-inst-types.html).
        if (nic["network_card"], nic["device"]) == (0, 0) and nic["kind"] is AwsInterfaceType.EFA_ONLY:
            primary = "the primary interface (card 0, device 0) needs an IP"
            problems.append(Problem(f"network_interfaces[{i}].kind", primary))
    slots = Counter((nic["network_card"], nic["device"]) for nic in given)
    problems += [
        Problem(f"network_interfaces[{i}]", f"card {card}, device {device} is named more than once")
        for i, nic in enumerate(given)
        for card, device in [(nic["network_card"], nic["device"])]
        if slots[card, device] > 1
    ]
    refuse(problems)
    return tuple(efa.NetworkInterface(**as_data(nic)) for nic in given)


class AwsAddonStage(StrEnum):
    """Which of an EKS cluster's managed add-ons, by when they can be installed."""

    BEFORE_NODES = "beforeNodes"
    """vpc-cni with NetworkPolicy enforcement on, and kube-proxy: a node is not Ready without them. Install
    them before any node group."""
    AFTER_SYSTEM_POOL = "afterSystemPool"
    """CoreDNS, and metrics-server (the HPA's resource metrics; EKS installs none): their pods need a node.
    Install them once the system node group exists."""


class AwsEksAddonsArgs(TypedDict):
    cluster_name: pulumi.Input[str]
    """Name of the EKS cluster (an AwsEksCluster's clusterName)."""
    kubernetes_version: str
    """Kubernetes minor version of the cluster: each add-on runs the version EKS names as its default for
    it, so a version bump upgrades them too."""
    stage: AwsAddonStage
    """Which add-ons: beforeNodes or afterSystemPool."""
    tags: NotRequired[dict[str, str]]
    """Tags on every add-on."""


class AwsEksAddons(PackageComponent):
    """EKS managed add-ons for a cluster without EKS's self-managed ones (an AwsEksCluster's default), at the
    version EKS names as the default for the cluster's Kubernetes version; a conflict with a hand edit
    resolves to this configuration, so NetworkPolicy enforcement stays on.

    Order them with ``dependsOn``: beforeNodes after the cluster, the node groups after beforeNodes,
    afterSystemPool after the system node group (a Deployment created before any node waits degraded until
    EKS gives up)."""

    addon_versions: pulumi.Output[dict[str, str]]
    """The version of each add-on installed, by name."""

    def __init__(self, name: str, args: AwsEksAddonsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        cluster_name, version, stage, tags = self.prepare(args)
        chosen = addons.BEFORE_NODES if stage is AwsAddonStage.BEFORE_NODES else addons.AFTER_SYSTEM_POOL
        created = addons.eks_addons(name, cluster_name, version, chosen, self.start(name, opts), tags=tags)
        self.addon_versions = pulumi.Output.all(**{n: a.addon_version for n, a in created.items()})
        self.register_outputs({"addon_versions": self.addon_versions})

    @classmethod
    def build(cls, values: dict[str, Any]) -> Any:
        return values["cluster_name"], values["kubernetes_version"], values["stage"], values.get("tags", {})


class AwsEfaSecurityGroupArgs(TypedDict):
    vpc_id: pulumi.Input[str]
    """VPC of the nodes (an AwsNetwork's vpcId)."""
    tags: NotRequired[dict[str, str]]
    """Tags on the group."""


class AwsEfaSecurityGroup(PackageComponent):
    """A security group that admits all traffic from, and sends all traffic to, itself and nothing else:
    what EFA's OS-bypass needs between the nodes that carry it. EFA nodes get it beside the cluster's."""

    security_group_id: pulumi.Output[str]
    """ID of the group: name it among an EFA node group's securityGroupIds."""

    _args = efa.AwsEfaSecurityGroupArgs

    def __init__(
        self, name: str, args: AwsEfaSecurityGroupArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        built = self.prepare(args)
        self.publish(efa.AwsEfaSecurityGroup(name, built, self.start(name, opts)))


class AwsKarpenterArgs(TypedDict):
    cluster_name: str
    """Name of the EKS cluster: Karpenter's IAM conditions and tags spell it out."""
    cluster_arn: pulumi.Input[str]
    """ARN of the cluster (an AwsEksCluster's arn)."""
    oidc_provider_arn: pulumi.Input[str]
    """ARN of the cluster's IAM OIDC provider (an AwsEksCluster's oidcProviderArn)."""
    oidc_issuer: pulumi.Input[str]
    """The cluster's issuer without ``https://`` (an AwsEksCluster's oidcIssuer)."""
    kms_key_arn: pulumi.Input[str]
    """KMS key that encrypts the root volumes of the nodes Karpenter launches."""
    tags: NotRequired[dict[str, str]]
    """Tags on every resource."""


class AwsKarpenter(PackageComponent):
    """What Karpenter needs from AWS to grow GPU pools from zero: its controller's role (IRSA, for
    ``kube-system/karpenter`` only), its nodes' role with an EKS access entry, and the interruption queue
    (SSE, TLS only, kept 5 minutes) fed by EventBridge rules, so spot and maintenance interruptions drain a
    node before EC2 stops it.

    Karpenter itself runs in the cluster: install the charts karpenter-crd, then karpenter (skipping its
    crds/), version 1.14.1 from oci://public.ecr.aws/karpenter into kube-system, with
    ``settings.clusterName``, ``settings.interruptionQueue`` set to queueName and the service account
    annotated ``eks.amazonaws.com/role-arn: <controllerRoleArn>``; each EC2NodeClass names nodeRoleName as
    its role."""

    controller_role_arn: pulumi.Output[str]
    """ARN of the controller's role, once its permissions are attached."""
    node_role_name: pulumi.Output[str]
    """Name of the role of the nodes Karpenter launches, once it may join the cluster."""
    queue_name: pulumi.Output[str]
    """Name of the interruption queue (the chart's settings.interruptionQueue)."""

    _args = karpenter.AwsKarpenterArgs

    def __init__(self, name: str, args: AwsKarpenterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        built = self.prepare(args)
        self.publish(karpenter.AwsKarpenter(name, built, self.start(name, opts)))


COMPONENTS: list[type[pulumi.ComponentResource]] = [
    AwsManagedNodeGroup,
    AwsEksAddons,
    AwsEfaSecurityGroup,
    AwsKarpenter,
]
