"""Tenancy: a namespace per team, fenced in, and the identity and network allowances of each workload.

The namespace enforces Pod Security "restricted", caps what its workloads may request (GPUs included) with
a ResourceQuota, gives defaults to any container that states no resources (LimitRange), and denies all
traffic except DNS; each workload then opens exactly the paths it needs with its own NetworkPolicy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from lepton_infra.blueprint.workloads import WorkloadSpec
from lepton_infra.catalog import Resources
from lepton_infra.components.args import refuse_args
from lepton_infra.components.gpu_nodes import GPU_RESOURCE
from lepton_infra.components.handle import ClusterHandle, ServiceAccountBinding
from lepton_infra.components.kubernetes.labels import namespace_labels
from lepton_infra.validation import at, kubernetes_namespace

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
_PSA = "pod-security.kubernetes.io"
HTTPS_PORT = 443


# What every workload of the namespace needs at its largest scale, and not a GPU more.
NamespaceQuota = Resources


def pod_security_labels(level: str) -> dict[str, str]:
    return {f"{_PSA}/{mode}": level for mode in ("enforce", "audit", "warn")} | {
        f"{_PSA}/{mode}-version": "latest" for mode in ("enforce", "audit", "warn")
    }


@dataclass
class TenantNamespaceArgs:
    """The inputs of a TenantNamespace."""

    handle: ClusterHandle
    """The site's cluster: its Kubernetes provider, and where its Prometheus scrapes from (the namespace's
    network policies let it in)."""
    namespace: str
    """The namespace's name: a DNS label (lowercase letters, digits and '-', at most 63 characters)."""
    quota: NamespaceQuota
    """What the namespace's pods may request in all (GPUs, CPU, memory, pods), from the team's share of the
    site; the same quota refuses LoadBalancer and NodePort Services."""

    def __post_init__(self) -> None:
        refuse_args(self, at("namespace", kubernetes_namespace(self.namespace)))


class TenantNamespace(pulumi.ComponentResource):
    """A namespace under Pod Security "restricted", with a quota, container defaults and default-deny traffic.

    The quota also forbids LoadBalancer and NodePort Services: exposure goes through an explicit Ingress.
    """

    namespace: pulumi.Output[str]
    """The namespace's name, known once it exists: create what goes in it with this, so it comes after."""

    def __init__(
        self, name: str, args: TenantNamespaceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("lepton:kubernetes:TenantNamespace", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.handle.provider)
        ns = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.namespace,
                labels=namespace_labels(args.namespace) | pod_security_labels("restricted"),
            ),
            opts=child,
        )
        in_ns = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[ns]))
        quota = args.quota
        k8s.core.v1.ResourceQuota(
            f"{name}-quota",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="workloads", namespace=args.namespace),
            spec=k8s.core.v1.ResourceQuotaSpecArgs(
                hard={
                    # Extended resources are quota'd by request only; limits must equal requests for them.
                    f"requests.{GPU_RESOURCE}": str(quota.gpus),
                    "requests.cpu": f"{quota.cpu_millicores}m",
                    "limits.cpu": f"{quota.cpu_millicores}m",
                    "requests.memory": f"{quota.memory_mib}Mi",
                    "limits.memory": f"{quota.memory_mib}Mi",
                    "services.loadbalancers": "0",
                    "services.nodeports": "0",
                }
            ),
            opts=in_ns,
        )
        default = {"cpu": "500m", "memory": "512Mi"}
        k8s.core.v1.LimitRange(
            f"{name}-limits",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="container-defaults", namespace=args.namespace),
            spec=k8s.core.v1.LimitRangeSpecArgs(
                limits=[
                    k8s.core.v1.LimitRangeItemArgs(type="Container", default=default, default_request=default)
                ]
            ),
            opts=in_ns,
        )
        network_policy(
            f"{name}-default-deny", args.namespace, "default-deny", {}, ingress=[], egress=[], opts=in_ns
        )
        network_policy(
            f"{name}-allow-dns",
            args.namespace,
            "allow-dns",
            {},
            ingress=None,
            egress=[
                k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                    to=[
                        k8s.networking.v1.NetworkPolicyPeerArgs(
                            namespace_selector=_match({NAMESPACE_NAME_LABEL: "kube-system"}),
                            pod_selector=_match({"k8s-app": "kube-dns"}),
                        )
                    ],
                    ports=[
                        k8s.networking.v1.NetworkPolicyPortArgs(protocol=protocol, port=53)
                        for protocol in ("UDP", "TCP")
                    ],
                )
            ],
            opts=in_ns,
        )
        self.namespace = ns.metadata.name
        self.register_outputs({"namespace": self.namespace})


def _match(labels: Mapping[str, str]) -> k8s.meta.v1.LabelSelectorArgs:
    return k8s.meta.v1.LabelSelectorArgs(match_labels=dict(labels))


def from_pods(labels: Mapping[str, str]) -> k8s.networking.v1.NetworkPolicyPeerArgs:
    """Pods of the policy's own namespace with ``labels``."""
    return k8s.networking.v1.NetworkPolicyPeerArgs(pod_selector=_match(labels))


def from_namespace(namespace: str) -> k8s.networking.v1.NetworkPolicyPeerArgs:
    return k8s.networking.v1.NetworkPolicyPeerArgs(
        namespace_selector=_match({NAMESPACE_NAME_LABEL: namespace})
    )


def tcp(*ports: int) -> list[k8s.networking.v1.NetworkPolicyPortArgs]:
    return [k8s.networking.v1.NetworkPolicyPortArgs(protocol="TCP", port=p) for p in ports]


def https_egress() -> k8s.networking.v1.NetworkPolicyEgressRuleArgs:
    """HTTPS anywhere: object storage and the cloud's token exchange have no stable addresses."""
    return k8s.networking.v1.NetworkPolicyEgressRuleArgs(
        to=[
            k8s.networking.v1.NetworkPolicyPeerArgs(ip_block=k8s.networking.v1.IPBlockArgs(cidr="0.0.0.0/0"))
        ],
        ports=tcp(HTTPS_PORT),
    )


def network_policy(
    resource_name: str,
    namespace: str,
    name: str,
    pod_labels: Mapping[str, str],
    *,
    ingress: Sequence[k8s.networking.v1.NetworkPolicyIngressRuleArgs] | None,
    egress: Sequence[k8s.networking.v1.NetworkPolicyEgressRuleArgs] | None,
    opts: pulumi.ResourceOptions,
) -> k8s.networking.v1.NetworkPolicy:
    """Allow ``ingress`` / ``egress`` for the selected pods; a direction given as None is left untouched."""
    types = [t for t, rules in (("Ingress", ingress), ("Egress", egress)) if rules is not None]
    return k8s.networking.v1.NetworkPolicy(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=_match(pod_labels),
            policy_types=types,
            ingress=list(ingress) if ingress is not None else None,
            egress=list(egress) if egress is not None else None,
        ),
        opts=opts,
    )


def workload_account(workload: WorkloadSpec) -> tuple[str, str]:
    """``(namespace, name)`` of the ServiceAccount a workload's pods run as: its own, named after it.

    The cloud layer makes each one's identity ahead of the Kubernetes layer, by this same name."""
    return workload.namespace, workload.name


def workload_service_account(
    resource_name: str,
    *,
    handle: ClusterHandle,
    namespace: str,
    name: str,
    labels: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> tuple[k8s.core.v1.ServiceAccount, ServiceAccountBinding]:
    """A ServiceAccount of one workload, bound to a cloud identity of its own through the site's handle."""
    binding = handle.bind_service_account(namespace, name)
    account = k8s.core.v1.ServiceAccount(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=name,
            namespace=namespace,
            labels={**labels, **binding.labels},
            annotations=dict(binding.annotations) or None,
        ),
        automount_service_account_token=False,
        opts=opts,
    )
    return account, binding
