"""Cluster services: what the objects a plan deploys rely on the cluster to provide.

An HPA with no metrics source never scales; a NetworkPolicy on a cluster whose network plugin ignores it
protects nothing (default-deny does nothing); a pod whose node cannot authenticate to the registry sits
in ImagePullBackOff; a PrometheusRule without the Prometheus Operator is refused by the API server. None
of it shows in a plan's own shapes, only in the relation between an object and its cluster. Clusters this
stack does not build are skipped: the plan cannot see what they already run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from lepton_infra.catalog import cluster_services as svc
from lepton_infra.catalog.types import Cloud
from lepton_infra.policies.kubernetes.workloads import HPA
from lepton_infra.policies.operability.pods import Workload
from lepton_infra.policies.operability.topology import Cluster, topology
from lepton_infra.policies.rule import view_policy
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import as_list, get, is_true, known, policy_statements
from lepton_infra.policies.view import Finding, Resource, Stack

FAMILY = "operability-services"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
API_SERVICE = "kubernetes:apiregistration.k8s.io/v1:APIService"
CRD = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"


def _api_services(cluster: Cluster) -> set[str]:
    return {str(get(a.props, "spec", "group")) for a in cluster.of_type(API_SERVICE)}


# --- HPA -------------------------------------------------------------------------------------------------
def _has_metrics_server(cluster: Cluster) -> bool:
    if cluster.cloud in svc.BUILT_IN_METRICS_SERVER:
        return True
    return cluster.memo(
        ("metrics-server",),
        lambda: (
            svc.METRICS_SERVER_ADDON in cluster.addon_configs()
            or bool(cluster.releases(svc.METRICS_SERVER_CHARTS))
            or "metrics.k8s.io" in _api_services(cluster)
        ),
    )


def _has_custom_metrics(cluster: Cluster) -> bool:
    return cluster.memo(
        ("custom-metrics",),
        lambda: (
            bool(cluster.releases(svc.CUSTOM_METRICS_ADAPTER_CHARTS))
            or bool(svc.CUSTOM_METRICS_API_GROUPS & _api_services(cluster))
        ),
    )


def _metric_names(hpa: Resource) -> Iterator[tuple[str, str]]:
    """(type, metric name) of each metric the HPA scales on."""
    for metric in as_list(get(hpa.props, "spec", "metrics")):
        kind = str(known(metric, "type", default="Resource"))
        section = {"Resource": "resource", "ContainerResource": "containerResource"}.get(kind)
        if section is not None:
            yield kind, str(get(metric, section, "name", default="cpu"))
        else:
            field = kind[0].lower() + kind[1:]
            yield kind, str(get(metric, field, "metric", "name", default="?"))
    if not as_list(get(hpa.props, "spec", "metrics")):
        yield "Resource", "cpu"  # autoscaling/v2 defaults to 80% CPU


@view_policy(
    name="hpa-has-metrics-source",
    family=FAMILY,
    severity="high",
    description=(
        "Every HPA metric needs a source in its cluster: metrics-server for CPU and memory (built into AKS "
        "and ACK, an add-on on EKS), a custom or external metrics adapter for Pods, Object and External "
        "metrics."
    ),
    remediation=(
        "EKS: add the `metrics-server` add-on (or chart). For Pods/Object/External metrics, install an "
        "adapter that serves the metric (prometheus-adapter, KEDA, the cloud's metrics adapter)."
    ),
)
def hpa_has_metrics_source(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    tops = topology(stack)
    for hpa in stack.of_type(HPA):
        cluster = tops.cluster_of(hpa)
        if cluster is None or not cluster.managed:
            continue
        name = str(get(hpa.props, "metadata", "name", default=hpa.name))
        for kind, metric in _metric_names(hpa):
            if kind in ("Resource", "ContainerResource") and not _has_metrics_server(cluster):
                yield Finding(
                    f"{name}: the HPA scales on {metric}, but {cluster.describe()} runs no metrics-server "
                    f"({svc.EKS_METRICS_SERVER.statement}); it never scales. Fix: add the metrics-server "
                    f"add-on.",
                    hpa.urn,
                )
            elif kind not in ("Resource", "ContainerResource") and not _has_custom_metrics(cluster):
                yield Finding(
                    f"{name}: the HPA scales on the {kind} metric {metric!r}, but nothing in "
                    f"{cluster.describe()} serves custom or external metrics; it never scales. Fix: install "
                    f"an adapter that serves {metric!r}.",
                    hpa.urn,
                )


# --- NetworkPolicy ---------------------------------------------------------------------------------------
def _enforcement_problem(cluster: Cluster) -> str | None:
    if cluster.releases(svc.ENFORCING_CNI_CHARTS):
        return None
    addons = cluster.addon_configs()
    if cluster.cloud is Cloud.AWS:
        vpc_cni = addons.get(svc.EKS_VPC_CNI_ADDON, {})
        return None if is_true(vpc_cni.get("enableNetworkPolicy")) else svc.EKS_NETWORK_POLICY.statement
    if cluster.cloud is Cloud.AZURE and cluster.resource is not None:
        policy = cluster.resource.known("networkProfile", "networkPolicy")
        return None if policy in svc.AKS_ENFORCING_POLICIES else svc.AKS_NETWORK_POLICY.statement
    if cluster.cloud is Cloud.ALICLOUD:
        terway = [addons[name] for name in svc.ACK_TERWAY_ADDONS & set(addons)]
        return (
            None if any(is_true(c.get("NetworkPolicy")) for c in terway) else svc.ACK_NETWORK_POLICY.statement
        )
    return None


@view_policy(
    name="network-policy-enforced",
    family=FAMILY,
    severity="high",
    description=(
        "NetworkPolicies must be enforced by the cluster's network plugin (EKS vpc-cni add-on with "
        "enableNetworkPolicy, AKS network policy azure/calico/cilium, ACK Terway with NetworkPolicy on), "
        "or the isolation they declare does not exist."
    ),
    remediation=(
        'EKS: manage the `vpc-cni` add-on with configurationValues {"enableNetworkPolicy": "true"}; '
        "AKS: networkProfile.networkPolicy cilium (with the cilium dataplane), azure or calico; ACK: the "
        'Terway add-on with config NetworkPolicy "true".'
    ),
)
def network_policy_enforced(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    for cluster in topology(stack).clusters:
        policies = cluster.of_type(NETWORK_POLICY)
        if not policies or not cluster.managed:
            continue
        problem = _enforcement_problem(cluster)
        if problem is None:
            continue
        names = ", ".join(sorted(str(get(p.props, "metadata", "name", default=p.name)) for p in policies))
        yield Finding(
            f"{cluster.describe()}: {len(policies)} NetworkPolicies ({names}) are not enforced: {problem}. "
            f"Every pod can reach every other, default-deny included. Fix: turn on the plugin's enforcement.",
            cluster.resource.urn if cluster.resource else policies[0].urn,
        )


# --- Image pulls -----------------------------------------------------------------------------------------
_REGISTRIES = {
    Cloud.AWS: re.compile(svc.ECR_HOST),
    Cloud.AZURE: re.compile(svc.ACR_HOST),
    Cloud.ALICLOUD: re.compile(svc.ACR_EE_HOST),
}


def _images(workload: Workload) -> list[str]:
    return [
        str(get(c, "image"))
        for kind in ("initContainers", "containers")
        for c in as_list(get(workload.spec, kind))
        if isinstance(get(c, "image"), str)
    ]


def _accounts_with_pull_secrets(cluster: Cluster) -> set[tuple[str, str]]:
    return cluster.memo(
        ("pull-secret-accounts",),
        lambda: {
            (
                str(get(sa.props, "metadata", "namespace", default="default")),
                str(get(sa.props, "metadata", "name")),
            )
            for sa in cluster.of_type(SERVICE_ACCOUNT)
            if as_list(get(sa.props, "imagePullSecrets"))
        },
    )


def _has_pull_secret(cluster: Cluster, workload: Workload) -> bool:
    if as_list(get(workload.spec, "imagePullSecrets")):
        return True
    account = str(get(workload.spec, "serviceAccountName", default="default"))
    return (workload.namespace, account) in _accounts_with_pull_secrets(cluster)


def _policy_name(arn: Any) -> str:
    return str(arn).rsplit("/", 1)[-1]


def _role_can_pull(stack: Stack, role: Resource) -> bool:
    role_names = {role.name, str(role.get("name", default=""))}
    for attachment in stack.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        refers = any(r.urn == role.urn for r in stack.references(attachment, "role"))
        if (refers or attachment.get("role") in role_names) and _policy_name(
            attachment.known("policyArn")
        ) in svc.ECR_PULL_POLICIES:
            return True
    for inline in stack.of_type("aws:iam/rolePolicy:RolePolicy"):
        if not any(r.urn == role.urn for r in stack.references(inline, "role")):
            continue
        for statement in policy_statements(inline.get("policy")):
            actions = {str(a) for a in as_list(get(statement, "Action"))}
            if get(statement, "Effect") == "Allow" and ({"ecr:*", "ecr:BatchGetImage"} & actions):
                return True
    return False


def _eks_can_pull(stack: Stack, cluster: Cluster) -> bool:
    groups = [p.resource for p in cluster.pools if p.resource.type == svc.EKS_NODE_GROUP]
    roles = [r for g in groups for r in stack.references(g, "nodeRoleArn") if r.type == "aws:iam/role:Role"]
    return bool(roles) and all(_role_can_pull(stack, r) for r in roles)


def _aks_can_pull(stack: Stack, cluster: Cluster) -> bool:
    assert cluster.resource is not None
    kubelet = cluster.resource.get("identityProfile", "kubeletidentity", "resourceId")
    for assignment in stack.of_type("azure-native:authorization:RoleAssignment"):
        role = str(assignment.known("roleDefinitionId", default="")).rsplit("/", 1)[-1]
        if role not in svc.ACR_PULL_ROLE_IDS:
            continue
        principals = stack.references(assignment, "principalId")
        if any(p.urn in (cluster.resource.urn, kubelet) or p.get("id") == kubelet for p in principals):
            return True
    return False


def _pull_problem(stack: Stack, cluster: Cluster) -> str | None:
    if cluster.cloud is Cloud.AWS:
        return None if _eks_can_pull(stack, cluster) else svc.ECR_PULL.statement
    if cluster.cloud is Cloud.AZURE:
        return None if _aks_can_pull(stack, cluster) else svc.ACR_PULL.statement
    if cluster.cloud is Cloud.ALICLOUD:
        return None if svc.ACK_CREDENTIAL_HELPERS & set(cluster.addon_configs()) else svc.ACK_PULL.statement
    return None


@view_policy(
    name="nodes-can-pull-images",
    family=FAMILY,
    severity="high",
    description=(
        "Nodes must be able to pull the images pods name from the cloud's private registry: the EKS node "
        "role with ECR read access, the AKS kubelet identity with AcrPull, the ACK credential helper (or "
        "an imagePullSecret)."
    ),
    remediation=(
        "EKS: attach AmazonEC2ContainerRegistryReadOnly (or PullOnly) to the node role; AKS: assign AcrPull "
        "on the registry to the cluster's kubelet identity; ACK: install the "
        "managed-aliyun-acr-credential-helper add-on for the registry instance, or give the pods an "
        "imagePullSecret."
    ),
)
def nodes_can_pull_images(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    for cluster in topology(stack).clusters:
        if not cluster.managed or cluster.cloud is None:
            continue
        registry = _REGISTRIES[cluster.cloud]
        problem: str | None = None
        for workload in cluster.workloads:
            private = [i for i in _images(workload) if registry.match(i)]
            if not private or _has_pull_secret(cluster, workload):
                continue
            problem = problem or _pull_problem(stack, cluster) or "ok"
            if problem != "ok":
                yield Finding(
                    f"{workload.name}: its image {private[0].split('@')[0]} is in the cloud's private "
                    f"registry, but {problem}; the pods will sit in ImagePullBackOff. Fix: give the nodes "
                    f"a pull path.",
                    workload.resource.urn,
                )


# --- Prometheus rules ------------------------------------------------------------------------------------
def _has_prometheus_operator(cluster: Cluster) -> bool:
    if cluster.releases(svc.PROMETHEUS_OPERATOR_CHARTS):
        return True
    return any(
        str(get(crd.props, "spec", "group")) == svc.PROMETHEUS_OPERATOR_GROUP for crd in cluster.of_type(CRD)
    )


@view_policy(
    name="prometheus-rules-have-operator",
    family=FAMILY,
    severity="high",
    description=(
        "PrometheusRule, ServiceMonitor and PodMonitor objects need the Prometheus Operator (its CRDs and a "
        "Prometheus that selects them) in the cluster the stack builds."
    ),
    remediation=(
        "Install kube-prometheus-stack (or the prometheus-operator CRDs and a Prometheus) in the cluster, "
        "or drop the monitoring objects where no operator will run."
    ),
)
def prometheus_rules_have_operator(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    for cluster in topology(stack).clusters:
        if not cluster.managed:
            continue
        monitors = [o for o in cluster.objects if f":{svc.PROMETHEUS_OPERATOR_GROUP}/" in o.type]
        if monitors and not _has_prometheus_operator(cluster):
            kinds = ", ".join(sorted({o.type.rsplit(":", 1)[-1] for o in monitors}))
            yield Finding(
                f"{cluster.describe()}: {kinds} objects but no Prometheus Operator: "
                f"{svc.PROMETHEUS_OPERATOR.statement}. Fix: install the operator with the cluster.",
                monitors[0].urn,
            )


POLICIES = (
    hpa_has_metrics_source,
    network_policy_enforced,
    nodes_can_pull_images,
    prometheus_rules_have_operator,
)
