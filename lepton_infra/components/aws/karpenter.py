"""AwsKarpenter: what Karpenter needs from AWS to grow an EKS cluster's GPU pools from zero, and the charts
that run it.

Follows Karpenter v1.14's own CloudFormation (aws/karpenter-provider-aws ``website/content/en/v1.14/
getting-started/getting-started-with-karpenter/cloudformation.yaml``): the controller's permissions are in
``karpenter_iam.py``; the interruption queue, its policy and EventBridge rules are upstream's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from lepton_infra.components.args import refuse_args
from lepton_infra.components.aws.identity import AwsWorkloadRole, AwsWorkloadRoleArgs, service_role
from lepton_infra.components.aws.karpenter_iam import ControllerScope, controller_policy
from lepton_infra.components.aws.policy_documents import Statement, policy_document
from lepton_infra.components.gpu_nodes import POOL_LABEL, SYSTEM_POOL_NAME
from lepton_infra.components.services import ClusterService, CustomObject, HelmChart
from lepton_infra.validation import at, eks_cluster_name

KARPENTER_VERSION = "1.14.1"  # accepts Kubernetes 1.26 to 1.36 (pkg/providers/version/version.go)
KARPENTER_REPOSITORY = "oci://public.ecr.aws/karpenter"
KARPENTER_NAMESPACE = "kube-system"
KARPENTER_SERVICE_ACCOUNT = "karpenter"
# Karpenter's nodes: the policies its getting-started gives them, less SSM (no shell on our nodes).
KARPENTER_NODE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryPullOnly",
)
# EventBridge events Karpenter acts on before EC2 takes a node away (spot interruption, rebalance,
# scheduled maintenance, instance state, capacity-reservation interruption).
INTERRUPTION_EVENTS: Mapping[str, Mapping[str, list[str]]] = {
    "health": {"source": ["aws.health"], "detail-type": ["AWS Health Event"]},
    "spot": {"source": ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"]},
    "rebalance": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"]},
    "state": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"]},
    "reservation": {
        "source": ["aws.ec2"],
        "detail-type": ["EC2 Capacity Reservation Instance Interruption Warning"],
    },
}


@dataclass(frozen=True)
class AwsKarpenterArgs:
    """The inputs of an AwsKarpenter."""

    cluster_name: str
    """The EKS cluster's name: Karpenter's IAM conditions and the tags it puts on what it launches spell it
    out, so its role acts only on this cluster's instances."""
    cluster_arn: pulumi.Input[str]
    """ARN of the EKS cluster (an AwsEksCluster's ``arn``): the nodes' access entry is made in it."""
    oidc_provider_arn: pulumi.Input[str]
    """ARN of the cluster's IAM OIDC provider: the controller's role trusts only ``kube-system/karpenter``
    through it."""
    oidc_issuer: pulumi.Input[str]
    """The cluster's OIDC issuer without its scheme (an AwsEksCluster's ``oidc_issuer``)."""
    kms_key_arn: pulumi.Input[str]
    """The key the nodes' root volumes are encrypted with: the controller may use it for the volumes of the
    instances it launches, and for nothing else."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the roles, the access entry, the queue and the rules, besides the provider's default tags."""

    def __post_init__(self) -> None:
        refuse_args(self, at("cluster_name", eks_cluster_name(self.cluster_name)))


class AwsKarpenter(pulumi.ComponentResource):
    """Karpenter's controller role (IRSA, for ``kube-system/karpenter`` only), its nodes' role with an EKS
    access entry, and the interruption queue (SSE, TLS only, kept 5 minutes) fed by EventBridge rules, so spot
    and maintenance interruptions drain a node before EC2 stops it."""

    controller_role_arn: pulumi.Output[str]
    """ARN of the controller's IRSA role, for the chart's service account; it resolves once the role's
    permissions are attached, so the chart waits for them."""
    node_role_name: pulumi.Output[str]
    """Name of the role Karpenter's nodes get (an EC2NodeClass's ``role``); it resolves once the role can join
    the cluster (policies attached, access entry made)."""
    queue_name: pulumi.Output[str]
    """Name of the SQS queue of interruption events (the chart's ``settings.interruptionQueue``)."""

    def __init__(self, name: str, args: AwsKarpenterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("lepton:aws:Karpenter", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        partition = aws.get_partition_output(opts=invoke).partition
        region = aws.get_region_output(opts=invoke).region
        account = aws.get_caller_identity_output(opts=invoke).account_id

        nodes = service_role(f"{name}-nodes", "ec2.amazonaws.com", KARPENTER_NODE_POLICIES, args.tags, self)
        # Nodes join the cluster through an access entry of their role (only a managed node group's role
        # gets one by itself; EKS user guide, grant-k8s-access).
        entry = aws.eks.AccessEntry(
            f"{name}-nodes",
            aws.eks.AccessEntryArgs(
                cluster_name=pulumi.Output.from_input(args.cluster_arn).apply(
                    lambda arn: arn.rsplit("/", 1)[-1]
                ),
                principal_arn=nodes.role.arn,
                type="EC2_LINUX",
                tags=dict(args.tags),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=nodes.ready),
        )
        queue = _interruption_queue(name, args, child)
        controller = AwsWorkloadRole(
            f"{name}-controller",
            AwsWorkloadRoleArgs(
                oidc_provider_arn=args.oidc_provider_arn,
                oidc_issuer=args.oidc_issuer,
                namespace=KARPENTER_NAMESPACE,
                service_account=KARPENTER_SERVICE_ACCOUNT,
                tags=args.tags,
            ),
            opts=child,
        )
        permissions = aws.iam.RolePolicy(
            f"{name}-controller",
            aws.iam.RolePolicyArgs(
                role=controller.role_name,
                policy=controller_policy(
                    ControllerScope(args.cluster_name, partition, region, account),
                    cluster_arn=args.cluster_arn,
                    node_role_arn=nodes.role.arn,
                    queue_arn=queue.arn,
                    kms_key_arn=args.kms_key_arn,
                ),
            ),
            opts=child,
        )
        # Outputs that resolve only once what they stand for works, so whatever uses them (the chart, the
        # EC2NodeClasses) waits for it: the role with its permissions, the node role with its access entry.
        self.controller_role_arn = _once(controller.arn, permissions)
        self.node_role_name = _once(nodes.role.name, entry, *nodes.attachments)
        self.queue_name = queue.name
        self.register_outputs(
            {
                "controller_role_arn": self.controller_role_arn,
                "node_role_name": self.node_role_name,
                "queue_name": self.queue_name,
            }
        )


def karpenter_services(
    cluster_name: str,
    queue_name: pulumi.Input[str],
    controller_role_arn: pulumi.Input[str],
    objects: Sequence[CustomObject],
) -> tuple[ClusterService, ClusterService]:
    """The CRD chart, then the controller chart (on the system pool) with the pools' NodePools and
    EC2NodeClasses. The CRDs have their own chart because Helm never upgrades a chart's ``crds/``
    ("we recommend using the independent karpenter-crd chart", Karpenter upgrade guide)."""
    crds = ClusterService(
        name="karpenter-crd",
        namespace=KARPENTER_NAMESPACE,
        create_namespace=False,
        chart=HelmChart(chart="karpenter-crd", version=KARPENTER_VERSION, repository=KARPENTER_REPOSITORY),
    )
    controller = ClusterService(
        name="karpenter",
        namespace=KARPENTER_NAMESPACE,
        create_namespace=False,
        after=(crds.name,),
        chart=HelmChart(
            chart="karpenter",
            version=KARPENTER_VERSION,
            repository=KARPENTER_REPOSITORY,
            skip_crds=True,
            values={
                "settings": {"clusterName": cluster_name, "interruptionQueue": queue_name},
                "serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": controller_role_arn}},
                # Never on a node it launched (the chart's own affinity), and always on the system pool.
                "nodeSelector": {POOL_LABEL: SYSTEM_POOL_NAME},
                # Karpenter's getting-started sizes: requests equal limits.
                "controller": {
                    "resources": {
                        "requests": {"cpu": "1", "memory": "1Gi"},
                        "limits": {"cpu": "1", "memory": "1Gi"},
                    }
                },
            },
        ),
        objects=tuple(objects),
    )
    return crds, controller


def _once(value: pulumi.Output[str], *after: pulumi.CustomResource) -> pulumi.Output[str]:
    """``value``, once every resource of ``after`` exists (and depending on them)."""
    return pulumi.Output.all(value, *(r.urn for r in after)).apply(lambda values: str(values[0]))


def _interruption_queue(name: str, args: AwsKarpenterArgs, opts: pulumi.ResourceOptions) -> aws.sqs.Queue:
    # SSE-SQS rather than the site key: EventBridge would otherwise need rights on the key.
    queue = aws.sqs.Queue(
        f"{name}-interruptions",
        aws.sqs.QueueArgs(
            name=args.cluster_name,
            message_retention_seconds=300,
            sqs_managed_sse_enabled=True,
            tags=dict(args.tags),
        ),
        opts=opts,
    )
    aws.sqs.QueuePolicy(
        f"{name}-interruptions",
        aws.sqs.QueuePolicyArgs(
            queue_url=queue.url,
            policy=policy_document(
                Statement(
                    sid="EventBridgeSendsInterruptions",
                    actions=["sqs:SendMessage"],
                    resources=[queue.arn],
                    principals={"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]},
                ),
                Statement(
                    sid="DenyWithoutTls",
                    effect="Deny",
                    actions=["sqs:*"],
                    resources=[queue.arn],
                    principals={"AWS": "*"},
                    conditions={"Bool": {"aws:SecureTransport": "false"}},
                ),
            ),
        ),
        opts=opts,
    )
    for event, pattern in INTERRUPTION_EVENTS.items():
        rule = aws.cloudwatch.EventRule(
            f"{name}-{event}",
            aws.cloudwatch.EventRuleArgs(
                description=f"Karpenter of {args.cluster_name}: {pattern['detail-type'][0]}",
                event_pattern=json.dumps(pattern),
                tags=dict(args.tags),
            ),
            opts=opts,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-{event}",
            aws.cloudwatch.EventTargetArgs(
                rule=rule.name, arn=queue.arn, target_id="KarpenterInterruptionQueueTarget"
            ),
            opts=opts,
        )
    return queue
