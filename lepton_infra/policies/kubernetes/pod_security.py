"""Pod Security Standards (restricted profile) on every workload kind, init containers included."""

from __future__ import annotations

from collections.abc import Iterator

from lepton_infra.policies.kubernetes.workloads import WORKLOAD_TYPES, containers, pod_spec, security_value
from lepton_infra.policies.props import as_list, get, is_true
from lepton_infra.policies.rule import Subject, checkov, cis_eks, pss, resource_policy

# The only capability the restricted profile lets a container add back.
_ALLOWED_ADDED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
_ALLOWED_SECCOMP = frozenset({"RuntimeDefault", "Localhost"})


@resource_policy(
    name="kubernetes-pod-disallow-privileged",
    types=WORKLOAD_TYPES,
    severity="critical",
    description="Containers must not run privileged: a privileged container owns the node.",
    remediation=(
        "Remove `securityContext.privileged: true`; grant the narrow capability or device the "
        "container needs."
    ),
    controls=(pss("Privileged Containers"), cis_eks("4.2.1"), *checkov("CKV_K8S_16")),
)
def disallow_privileged(r: Subject) -> Iterator[str]:
    spec = pod_spec(r.type, r.props)
    for label, container in containers(spec):
        if is_true(get(container, "securityContext", "privileged")):
            yield f"{label} runs privileged"


@resource_policy(
    name="kubernetes-pod-disallow-host-namespaces",
    types=WORKLOAD_TYPES,
    severity="high",
    description="Pods must not share the node's PID, IPC or network namespace.",
    remediation="Remove `hostPID`, `hostIPC` and `hostNetwork` from the pod spec (or set them to false).",
    controls=(
        pss("Host Namespaces"),
        cis_eks("4.2.2"),
        cis_eks("4.2.3"),
        cis_eks("4.2.4"),
        *checkov("CKV_K8S_17", "CKV_K8S_18", "CKV_K8S_19"),
    ),
)
def disallow_host_namespaces(r: Subject) -> Iterator[str]:
    spec = pod_spec(r.type, r.props)
    for field in ("hostPID", "hostIPC", "hostNetwork"):
        if is_true(get(spec, field)):
            yield f"pod sets {field}: true"


@resource_policy(
    name="kubernetes-pod-disallow-host-path",
    types=WORKLOAD_TYPES,
    severity="high",
    description="Pods must not mount directories of the node (hostPath volumes).",
    remediation=(
        "Replace hostPath volumes with emptyDir, a PersistentVolumeClaim, a ConfigMap or a CSI volume."
    ),
    controls=(pss("HostPath Volumes"),),
)
def disallow_host_path(r: Subject) -> Iterator[str]:
    for volume in as_list(get(pod_spec(r.type, r.props), "volumes")):
        if get(volume, "hostPath") is not None:
            yield f"volume {get(volume, 'name')!r} mounts host path {get(volume, 'hostPath', 'path')!r}"


@resource_policy(
    name="kubernetes-pod-disallow-host-ports",
    types=WORKLOAD_TYPES,
    severity="high",
    description="Containers must not bind ports of the node (hostPort).",
    remediation="Remove `hostPort` and expose the container through a Service.",
    controls=(pss("Host Ports"), *checkov("CKV_K8S_26")),
)
def disallow_host_ports(r: Subject) -> Iterator[str]:
    for label, container in containers(pod_spec(r.type, r.props)):
        for port in as_list(get(container, "ports")):
            if get(port, "hostPort") not in (None, 0, 0.0):
                yield f"{label} binds host port {get(port, 'hostPort')}"


@resource_policy(
    name="kubernetes-pod-drop-all-capabilities",
    types=WORKLOAD_TYPES,
    severity="high",
    description="Containers must drop ALL Linux capabilities and add back at most NET_BIND_SERVICE.",
    remediation=(
        "Set `securityContext.capabilities.drop: [ALL]` and remove every entry of `capabilities.add` "
        "but NET_BIND_SERVICE."
    ),
    controls=(
        pss("Capabilities"),
        cis_eks("4.2.7"),
        cis_eks("4.2.9"),
        *checkov("CKV_K8S_28", "CKV_K8S_37", "CKV_K8S_39", "CKV_K8S_25"),
    ),
)
def drop_all_capabilities(r: Subject) -> Iterator[str]:
    for label, container in containers(pod_spec(r.type, r.props)):
        dropped = {str(c).upper() for c in as_list(get(container, "securityContext", "capabilities", "drop"))}
        if "ALL" not in dropped:
            yield f"{label} does not drop ALL capabilities"
        added = {str(c).upper() for c in as_list(get(container, "securityContext", "capabilities", "add"))}
        extra = sorted(added - _ALLOWED_ADDED_CAPABILITIES)
        if extra:
            yield f"{label} adds capabilities {', '.join(extra)}"


@resource_policy(
    name="kubernetes-pod-disallow-privilege-escalation",
    types=WORKLOAD_TYPES,
    severity="high",
    description="Containers must set allowPrivilegeEscalation: false.",
    remediation=(
        "Set `securityContext.allowPrivilegeEscalation: false` on every container and init container."
    ),
    controls=(pss("Privilege Escalation"), cis_eks("4.2.5"), *checkov("CKV_K8S_20")),
)
def disallow_privilege_escalation(r: Subject) -> Iterator[str]:
    for label, container in containers(pod_spec(r.type, r.props)):
        if get(container, "securityContext", "allowPrivilegeEscalation") is not False:
            yield f"{label} does not set allowPrivilegeEscalation: false"


@resource_policy(
    name="kubernetes-pod-run-as-non-root",
    types=WORKLOAD_TYPES,
    severity="high",
    description="Containers must run as a non-root user (runAsNonRoot: true, runAsUser not 0).",
    remediation=(
        "Set `securityContext.runAsNonRoot: true` on the pod (or every container) and a non-zero `runAsUser`."
    ),
    controls=(
        pss("Running as Non-root"),
        pss("Running as Non-root user"),
        cis_eks("4.2.6"),
        *checkov("CKV_K8S_23"),
    ),
)
def run_as_non_root(r: Subject) -> Iterator[str]:
    spec = pod_spec(r.type, r.props)
    for label, container in containers(spec):
        if security_value(spec, container, "runAsNonRoot") is not True:
            yield f"{label} does not set runAsNonRoot: true"
        if security_value(spec, container, "runAsUser") in (0, 0.0):
            yield f"{label} runs as user 0 (root)"


@resource_policy(
    name="kubernetes-pod-seccomp-runtime-default",
    types=WORKLOAD_TYPES,
    severity="medium",
    description="Pods must run under the RuntimeDefault (or a Localhost) seccomp profile.",
    remediation="Set `securityContext.seccompProfile.type: RuntimeDefault` on the pod.",
    controls=(pss("Seccomp"), *checkov("CKV_K8S_31")),
)
def seccomp_runtime_default(r: Subject) -> Iterator[str]:
    spec = pod_spec(r.type, r.props)
    for label, container in containers(spec):
        profile = get(container, "securityContext", "seccompProfile", "type") or get(
            spec, "securityContext", "seccompProfile", "type"
        )
        if profile not in _ALLOWED_SECCOMP:
            yield f"{label} has seccomp profile {profile or 'unset'}, not RuntimeDefault"


@resource_policy(
    name="kubernetes-pod-read-only-root-filesystem",
    types=WORKLOAD_TYPES,
    severity="medium",
    description="Containers must mount their root filesystem read-only.",
    remediation=(
        "Set `securityContext.readOnlyRootFilesystem: true`; mount an emptyDir where the process must write."
    ),
    controls=checkov("CKV_K8S_22"),
)
def read_only_root_filesystem(r: Subject) -> Iterator[str]:
    for label, container in containers(pod_spec(r.type, r.props)):
        if get(container, "securityContext", "readOnlyRootFilesystem") is not True:
            yield f"{label} has a writable root filesystem"


POLICIES = (
    disallow_privileged,
    disallow_host_namespaces,
    disallow_host_path,
    disallow_host_ports,
    drop_all_capabilities,
    disallow_privilege_escalation,
    run_as_non_root,
    seccomp_runtime_default,
    read_only_root_filesystem,
)
