"""Container hygiene beyond the PSS profile: resources, image provenance, and probes on serving workloads."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

from lepton_infra.policies.kubernetes.workloads import SERVING_TYPES, WORKLOAD_TYPES, containers, pod_spec
from lepton_infra.policies.props import get
from lepton_infra.policies.rule import Subject, checkov, resource_policy


@resource_policy(
    name="kubernetes-pod-resources-requests-limits",
    types=WORKLOAD_TYPES,
    severity="medium",
    description=(
        "Containers must request and limit CPU and memory, so the scheduler can place them and noisy "
        "pods are capped."
    ),
    remediation=(
        "Set `resources.requests.cpu`, `resources.requests.memory`, `resources.limits.cpu` and "
        "`resources.limits.memory`."
    ),
    controls=checkov("CKV_K8S_10", "CKV_K8S_11", "CKV_K8S_12", "CKV_K8S_13"),
)
def requests_and_limits(r: Subject) -> Iterator[str]:
    for label, container in containers(pod_spec(r.type, r.props)):
        missing = [
            f"{section}.{resource}"
            for section in ("requests", "limits")
            for resource in ("cpu", "memory")
            if get(container, "resources", section, resource) in (None, "")
        ]
        if missing:
            yield f"{label} sets no {', '.join(missing)}"


def _image(container: object) -> str:
    return str(get(container, "image", default=""))


@resource_policy(
    name="kubernetes-pod-image-pinned-by-digest",
    types=WORKLOAD_TYPES,
    severity="medium",
    description="Images must be pinned by digest (`image@sha256:...`), so what runs is what was scanned.",
    remediation=(
        "Reference every image as `registry/repository@sha256:<digest>` (a tag may precede the digest)."
    ),
    controls=checkov("CKV_K8S_43", "CKV_K8S_14"),
)
def image_pinned_by_digest(r: Subject) -> Iterator[str]:
    for label, container in containers(pod_spec(r.type, r.props)):
        if "@sha256:" not in _image(container):
            yield f"{label} image {_image(container)!r} is not pinned by digest"


def _registry(image: str) -> str:
    first = image.split("/", 1)[0]
    # Docker's rule: the first segment is a registry only if it looks like a host.
    if "/" in image and ("." in first or ":" in first or first == "localhost"):
        return first.split(":", 1)[0]
    return "docker.io"


@resource_policy(
    name="kubernetes-pod-image-allowed-registry",
    types=WORKLOAD_TYPES,
    severity="high",
    description="Images must come from an allowed registry (the platform's own registries by default).",
    remediation=(
        "Mirror the image into an allowed registry, or add the registry to the pack config "
        "`allowed_registries`."
    ),
    config=("allowedRegistries",),
)
def image_allowed_registry(r: Subject) -> Iterator[str]:
    patterns = r.settings.allowed_registries
    for label, container in containers(pod_spec(r.type, r.props)):
        registry = _registry(_image(container))
        if not any(fnmatch.fnmatchcase(registry, p) for p in patterns):
            yield f"{label} pulls from {registry}, not one of {', '.join(patterns)}"


@resource_policy(
    name="kubernetes-workload-probes",
    types=SERVING_TYPES,
    severity="medium",
    description=(
        "Long-running containers must have liveness and readiness probes (Jobs and CronJobs are exempt)."
    ),
    remediation=(
        "Add `livenessProbe` and `readinessProbe` to every container (the serving image answers "
        "/healthz and /readyz)."
    ),
    controls=checkov("CKV_K8S_8", "CKV_K8S_9"),
)
def probes(r: Subject) -> Iterator[str]:
    for label, container in containers(pod_spec(r.type, r.props), init=False):
        for probe in ("livenessProbe", "readinessProbe"):
            if get(container, probe) is None:
                yield f"{label} has no {probe}"


POLICIES = (requests_and_limits, image_pinned_by_digest, image_allowed_registry, probes)
