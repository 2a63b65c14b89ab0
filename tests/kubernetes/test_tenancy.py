"""Namespaces: restricted Pod Security, a GPU quota sized to the workloads, default-deny traffic."""

from __future__ import annotations

from manifest_helpers import Manifests


def test_workload_namespace_enforces_restricted_and_the_gpu_operators_is_privileged(
    onprem: Manifests,
) -> None:
    labels = onprem.one("Namespace", "ml")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/audit"] == "restricted"
    operator = onprem.one("Namespace", "gpu-operator")["metadata"]["labels"]
    assert operator["pod-security.kubernetes.io/enforce"] == "privileged"


def test_quota_holds_every_workload_at_peak_and_not_a_gpu_more(onprem: Manifests) -> None:
    hard = onprem.one("ResourceQuota", "workloads")["spec"]["hard"]
    # pretrain: 2 nodes x 8 GPUs; serve: (8 max replicas + 1 rollout surge) x 1 GPU.
    assert hard["requests.nvidia.com/gpu"] == "25"
    assert hard["requests.cpu"] == hard["limits.cpu"] == f"{2 * 96000 + 9 * 8000}m"
    assert hard["requests.memory"] == f"{2 * 1048576 + 9 * 65536}Mi"


def test_containers_without_resources_get_defaults(onprem: Manifests) -> None:
    [limits] = onprem.one("LimitRange", "container-defaults")["spec"]["limits"]
    assert limits["type"] == "Container"
    assert limits["default"] == limits["defaultRequest"]


def test_all_traffic_is_denied_but_dns(onprem: Manifests) -> None:
    deny = onprem.one("NetworkPolicy", "default-deny")["spec"]
    assert deny["podSelector"] == {"matchLabels": {}}
    assert deny["policyTypes"] == ["Ingress", "Egress"]
    assert deny.get("ingress", []) == deny.get("egress", []) == []
    dns = onprem.one("NetworkPolicy", "allow-dns")["spec"]
    assert dns["policyTypes"] == ["Egress"]
    [rule] = dns["egress"]
    assert {p["port"] for p in rule["ports"]} == {53}
    assert rule["to"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "kube-system"}
