"""Container hygiene beyond the PSS profile: resources, image provenance, and probes on serving workloads."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lepton_infra.policies.kubernetes.pods import kind_of, may_carry_pods, pods
from lepton_infra.policies.rule import Outcome, Subject, Undecided, checkov, resource_policy
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import is_unknown, read

# An OCI digest as Kubernetes accepts it after `@`: the algorithm and its full hex encoding
# (https://github.com/opencontainers/image-spec/blob/main/descriptor.md#digests: sha256 is 64 hex
# characters, sha512 is 128).
DIGEST = re.compile(r"@(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$")
# Long-running kinds that serve traffic or run daemons: the ones probes make sense for.
_BATCH_KINDS = frozenset({"Job", "CronJob"})


@resource_policy(
    name="kubernetes-pod-resources-requests-limits",
    types=may_carry_pods,
    unknowns="values",
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
def requests_and_limits(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    for pod in pods(r):
        if pod.unknown:
            yield pod.undecided()
            continue
        if pod.partial:
            continue  # a patch leaves unset resources as the live object has them
        for label, container in pod.containers():
            missing = [
                f"{section}.{resource}"
                for section in ("requests", "limits")
                for resource in ("cpu", "memory")
                if read(container, "resources", section, resource) in (None, "")
            ]
            if missing:
                yield f"{label} sets no {', '.join(missing)}"


def image_of(container: object) -> object:
    return read(container, "image")


@resource_policy(
    name="kubernetes-pod-image-pinned-by-digest",
    types=may_carry_pods,
    unknowns="values",
    severity="medium",
    description=(
        "Images must be pinned by a well-formed digest (`image@sha256:<64 hex>`), so what runs is what "
        "was scanned."
    ),
    remediation=(
        "Reference every image as `registry/repository@sha256:<digest>` (a tag may precede the digest)."
    ),
    controls=checkov("CKV_K8S_43", "CKV_K8S_14"),
)
def image_pinned_by_digest(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    for pod in pods(r):
        if pod.unknown:
            yield pod.undecided()
            continue
        for label, container in pod.containers():
            image = image_of(container)
            if is_unknown(image):
                yield Undecided(f"{label}: image can't be known during preview")
            elif image is None and pod.partial:
                continue
            elif not isinstance(image, str) or not DIGEST.search(image):
                if isinstance(image, str) and "@" in image:
                    yield f"{label} image {image!r} has a malformed digest"
                else:
                    yield f"{label} image {image!r} is not pinned by digest"


def _serving(resource_type: str) -> bool:
    kind = kind_of(resource_type)
    return kind is not None and may_carry_pods(resource_type) and kind.kind not in _BATCH_KINDS


@resource_policy(
    name="kubernetes-workload-probes",
    types=_serving,
    unknowns="values",
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
def probes(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    kind = kind_of(r.type)
    if kind is not None and not kind.builtin:
        return  # an operator's template may run a batch step; only built-in long-running kinds are judged
    for pod in pods(r):
        if pod.unknown:
            yield pod.undecided()
            continue
        if pod.partial:
            continue
        for label, container in pod.containers(init=False):
            for probe in ("livenessProbe", "readinessProbe"):
                if container.get(probe) is None:
                    yield f"{label} has no {probe}"


POLICIES = (requests_and_limits, image_pinned_by_digest, probes)
