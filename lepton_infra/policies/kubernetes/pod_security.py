"""Pod Security Standards, baseline and restricted, every control, on every pod a resource carries.

The controls and their allowed values are the standard's own
(https://kubernetes.io/docs/concepts/security/pod-security-standards/, read 2026-12-06). Each rule reads
every pod spec of the object (``pods.pods``: built-in kinds in every apiVersion, ``*Patch`` types,
custom resources that embed templates) and every container, init and ephemeral ones included. A value
the cloud computes later makes that container's verdict ``Undecided``; the other containers' findings
keep their enforcement. A ``*Patch`` is judged on the values it sets.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from lepton_infra.policies.kubernetes.pods import Pod, may_carry_pods, pods
from lepton_infra.policies.rule import (
    Outcome,
    Subject,
    Undecided,
    checkov,
    cis_aks,
    cis_eks,
    pss,
    pss_baseline,
    resource_policy,
)
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import as_list, is_true, is_unknown, number, read

# Capabilities the baseline profile lets a container add; restricted allows NET_BIND_SERVICE alone.
BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
RESTRICTED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
_ALLOWED_SECCOMP = frozenset({"RuntimeDefault", "Localhost"})
_ALLOWED_APPARMOR = frozenset({"RuntimeDefault", "Localhost"})
_APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"
_ALLOWED_SELINUX_TYPES = frozenset(
    {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
)
# The baseline's safe sysctls (namespaced, isolated per pod), as of Kubernetes 1.32.
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    }
)
# The restricted profile's volume types (hostPath has its own rule).
RESTRICTED_VOLUMES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)
_VOLUME_META = frozenset({"name", "hostPath"})


def _context(container: Mapping[str, Any], key: str) -> Any:
    return read(container, "securityContext", key)


def _effective(spec: Mapping[str, Any], container: Mapping[str, Any], key: str) -> Any:
    """A securityContext field as Kubernetes resolves it: the container's setting wins over the pod's."""
    value = _context(container, key)
    return read(spec, "securityContext", key) if value is None else value


def _known_pods(r: Subject) -> Iterator[Pod | Undecided]:
    for pod in pods(r):
        yield pod.undecided() if pod.unknown else pod


def _undecided(label: str, field: str) -> Undecided:
    return Undecided(f"{label}: {field} can't be known during preview")


@resource_policy(
    name="kubernetes-pod-disallow-privileged",
    types=may_carry_pods,
    unknowns="values",
    severity="critical",
    description="Containers must not run privileged: a privileged container owns the node.",
    remediation=(
        "Remove `securityContext.privileged: true`; grant the narrow capability or device the "
        "container needs."
    ),
    controls=(
        *pss_baseline("Privileged Containers"),
        *cis_eks("4.2.1"),
        *cis_aks("4.2.1"),
        *checkov("CKV_K8S_16"),
    ),
)
def disallow_privileged(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    for pod in _known_pods(r):
        if isinstance(pod, Undecided):
            yield pod
            continue
        for label, container in pod.containers():
            value = _context(container, "privileged")
            if is_unknown(value):
                yield _undecided(label, "securityContext.privileged")
            elif is_true(value):
                yield f"{label} runs privileged"


@resource_policy(
    name="kubernetes-pod-disallow-host-process",
    types=may_carry_pods,
    unknowns="values",
    severity="critical",
    description="Windows pods must not run as HostProcess containers: they run as the node.",
    remediation="Remove `securityContext.windowsOptions.hostProcess: true` from the pod and its containers.",
    controls=pss_baseline("HostProcess"),
)
def disallow_host_process(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    for pod in _known_pods(r):
        if isinstance(pod, Undecided):
            yield pod
            continue
        if is_true(read(pod.spec, "securityContext", "windowsOptions", "hostProcess")):
            yield pod.label("pod sets windowsOptions.hostProcess: true")
        for label, container in pod.containers():
            if is_true(read(container, "securityContext", "windowsOptions", "hostProcess")):
                yield f"{label} sets windowsOptions.hostProcess: true"


@resource_policy(
    name="kubernetes-pod-disallow-host-namespaces",
    types=may_carry_pods,
    unknowns="values",
    severity="high",
    description="Pods must not share the node's PID, IPC or network namespace.",
    remediation="Remove `hostPID`, `hostIPC` and `hostNetwork` from the pod spec (or set them to false).",
    controls=(
        *pss_baseline("Host Namespaces"),
        *cis_eks("4.2.2", "4.2.3", "4.2.4"),
        *cis_aks("4.2.2", "4.2.3", "4.2.4"),
        *checkov("CKV_K8S_17", "CKV_K8S_18", "CKV_K8S_19"),
    ),
)
def disallow_host_namespaces(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    for pod in _known_pods(r):
        if isinstance(pod, Undecided):
            yield pod
            continue
        for field in ("hostPID", "hostIPC", "hostNetwork"):
            value = pod.spec.get(field)
            if is_unknown(value):
                yield _undecided(pod.label("pod"), field)
            elif is_true(value):
                yield pod.label(f"pod sets {field}: true")


def _volumes(pod: Pod) -> Iterator[Mapping[str, Any]]:
    for volume in as_list(pod.spec.get("volumes")):
        if isinstance(volume, Mapping):
            yield volume


@resource_policy(
    name="kubernetes-pod-disallow-host-path",
    types=may_carry_pods,
    unknowns="values",
    severity="high",
    description="Pods must not mount directories of the node (hostPath volumes).",
    remediation=(
        "Replace hostPath volumes with emptyDir, a PersistentVolumeClaim, a ConfigMap or a CSI volume."
    ),
    controls=(*pss_baseline("HostPath Volumes"), *checkov("CKV_K8S_27")),
)
def disallow_host_path(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    for pod in _known_pods(r):
        if isinstance(pod, Undecided):
            yield pod
            continue
        for volume in _volumes(pod):
            if volume.get("hostPath") is not None:
                path = read(volume, "hostPath", "path")
                yield pod.label(f"volume {volume.get('name')!r} mounts host path {path!r}")


@resource_policy(
    name="kubernetes-pod-disallow-host-ports",
    types=may_carry_pods,
    unknowns="values",
    severity="high",
    description="Containers must not bind ports of the node (hostPort).",
    remediation="Remove `hostPort` and expose the container through a Service.",
    controls=(*pss_baseline("Host Ports"), *checkov("CKV_K8S_26")),
)
def disallow_host_ports(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    for pod in _known_pods(r):
        if isinstance(pod, Undecided):
            yield pod
            continue
        for label, container in pod.containers():
            for port in as_list(container.get("ports")):
                value = read(port, "hostPort")
                if is_unknown(value):
                    yield _undecided(label, "hostPort")
                elif value not in (None, 0):
                    yield f"{label} binds host port {number(value)}"


def _capabilities(container: Mapping[str, Any], which: str) -> set[str] | None:
    values = read(container, "securityContext", "capabilities", which)
    if is_unknown(values):
        return None
    return {str(c).upper().removeprefix("CAP_") for c in as_list(values)}


@resource_policy(
    name="kubernetes-pod-drop-all-capabilities",
    types=may_carry_pods,
    unknowns="values",
    severity="high",
    description="Containers must drop ALL Linux capabilities and add back at most NET_BIND_SERVICE.",
    remediation=(
        "Set `securityContext.capabilities.drop: [ALL]` and remove every entry of `capabilities.add` "
        "but NET_BIND_SERVICE."
    ),
    controls=(
        *pss_baseline("Capabilities"),
        *pss("Capabilities"),
        *cis_eks("4.2.7", "4.2.8", "4.2.9"),
        *cis_aks("4.2.7", "4.2.8", "4.2.9"),
        *checkov("CKV_K8S_28", "CKV_K8S_37", "CKV_K8S_39", "CKV_K8S_25"),
    ),
)
def drop_all_capabilities(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    for pod in _known_pods(r):
        if isinstance(pod, Undecided):
            yield pod
            continue
        for label, container in pod.containers():
            dropped, added = _capabilities(container, "drop"), _capabilities(container, "add")
            if dropped is None or added is None:
                yield _undecided(label, "securityContext.capabilities")
                continue
            unset = read(container, "securityContext", "capabilities", "drop") is None
            if "ALL" not in dropped and not (pod.partial and unset):
                yield f"{label} does not drop ALL capabilities"
            extra = sorted(added - RESTRICTED_CAPABILITIES)
            if extra:
                beyond = [c for c in extra if c not in BASELINE_CAPABILITIES]
                note = f" ({', '.join(beyond)} beyond even the baseline profile)" if beyond else ""
                yield f"{label} adds capabilities {', '.join(extra)}{note}"


@resource_policy(
    name="kubernetes-pod-disallow-privilege-escalation",
    types=may_carry_pods,
    unknowns="values",
    severity="high",
    description="Containers must set allowPrivilegeEscalation: false.",
    remediation=(
        "Set `securityContext.allowPrivilegeEscalation: false` on every container and init container."
    ),
    controls=(
        *pss("Privilege Escalation"),
        *cis_eks("4.2.5"),
        *cis_aks("4.2.5"),
        *checkov("CKV_K8S_20"),
    ),
)
def disallow_privilege_escalation(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    for pod in _known_pods(r):
        if isinstance(pod, Undecided):
            yield pod
            continue
        for label, container in pod.containers():
            value = _context(container, "allowPrivilegeEscalation")
            if is_unknown(value):
                yield _undecided(label, "securityContext.allowPrivilegeEscalation")
            elif value is not False and not (pod.partial and value is None):
                yield f"{label} does not set allowPrivilegeEscalation: false"


@resource_policy(
    name="kubernetes-pod-run-as-non-root",
    types=may_carry_pods,
    unknowns="values",
    severity="high",
    description="Containers must run as a non-root user (runAsNonRoot: true, runAsUser not 0).",
    remediation=(
        "Set `securityContext.runAsNonRoot: true` on the pod (or every container) and a non-zero `runAsUser`."
    ),
    controls=(
        *pss("Running as Non-root", "Running as Non-root user"),
        *cis_eks("4.2.6"),
        *cis_aks("4.2.6"),
        *checkov("CKV_K8S_23"),
    ),
)
def run_as_non_root(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    for pod in _known_pods(r):
        if isinstance(pod, Undecided):
            yield pod
            continue
        for label, container in pod.containers():
            non_root = _effective(pod.spec, container, "runAsNonRoot")
            user = _effective(pod.spec, container, "runAsUser")
            if is_unknown(non_root) or is_unknown(user):
                yield _undecided(label, "runAsNonRoot or runAsUser")
                continue
            if non_root is not True and not (pod.partial and non_root is None):
                yield f"{label} does not set runAsNonRoot: true"
            if user == 0:
                yield f"{label} runs as user 0 (root)"


@resource_policy(
    name="kubernetes-pod-seccomp-runtime-default",
    types=may_carry_pods,
    unknowns="values",
    severity="medium",
    description="Pods must run under the RuntimeDefault (or a Localhost) seccomp profile.",
    remediation="Set `securityContext.seccompProfile.type: RuntimeDefault` on the pod.",
    controls=(*pss_baseline("Seccomp"), *pss("Seccomp"), *checkov("CKV_K8S_31")),
)
def seccomp_runtime_default(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    for pod in _known_pods(r):
        if isinstance(pod, Undecided):
            yield pod
            continue
        for label, container in pod.containers():
            profile = _effective(pod.spec, container, "seccompProfile")
            kind = read(profile, "type") if profile is not None else None
            if is_unknown(profile) or is_unknown(kind):
                yield _undecided(label, "seccompProfile")
            elif kind not in _ALLOWED_SECCOMP and not (pod.partial and kind is None):
                yield f"{label} has seccomp profile {kind or 'unset'}, not RuntimeDefault"


@resource_policy(
    name="kubernetes-pod-read-only-root-filesystem",
    types=may_carry_pods,
    unknowns="values",
    severity="medium",
    description="Containers must mount their root filesystem read-only.",
    remediation=(
        "Set `securityContext.readOnlyRootFilesystem: true`; mount an emptyDir where the process must write."
    ),
    controls=checkov("CKV_K8S_22"),
)
def read_only_root_filesystem(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    for pod in _known_pods(r):
        if isinstance(pod, Undecided):
            yield pod
            continue
        for label, container in pod.containers():
            value = _context(container, "readOnlyRootFilesystem")
            if is_unknown(value):
                yield _undecided(label, "securityContext.readOnlyRootFilesystem")
            elif value is not True and not (pod.partial and value is None):
                yield f"{label} has a writable root filesystem"


def _apparmor_problems(pod: Pod) -> Iterator[str]:
    kind = read(pod.spec, "securityContext", "appArmorProfile", "type")
    if kind is not None and not is_unknown(kind) and kind not in _ALLOWED_APPARMOR:
        yield pod.label(f"pod sets AppArmor profile {kind}")
    for label, container in pod.containers():
        kind = read(container, "securityContext", "appArmorProfile", "type")
        if kind is not None and not is_unknown(kind) and kind not in _ALLOWED_APPARMOR:
            yield f"{label} sets AppArmor profile {kind}"
    annotations = read(pod.template, "metadata", "annotations")
    if isinstance(annotations, Mapping):
        for key, value in annotations.items():
            if str(key).startswith(_APPARMOR_ANNOTATION) and not (
                value == "runtime/default" or str(value).startswith("localhost/") or is_unknown(value)
            ):
                named = str(key).removeprefix(_APPARMOR_ANNOTATION)
                yield pod.label(f"annotation sets AppArmor profile {value} for container {named!r}")


@resource_policy(
    name="kubernetes-pod-apparmor-not-unconfined",
    types=may_carry_pods,
    unknowns="values",
    severity="high",
    description="Pods must not run without AppArmor confinement or under a profile other than the runtime's.",
    remediation=(
        "Remove the override, or set `securityContext.appArmorProfile.type: RuntimeDefault` (or a "
        "Localhost profile)."
    ),
    controls=pss_baseline("AppArmor"),
)
def apparmor_not_unconfined(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    for pod in _known_pods(r):
        if isinstance(pod, Undecided):
            yield pod
        else:
            yield from _apparmor_problems(pod)


def _selinux_problems(where: str, options: Any) -> Iterator[str]:
    if not isinstance(options, Mapping):
        return
    kind = options.get("type")
    if kind is not None and not is_unknown(kind) and kind not in _ALLOWED_SELINUX_TYPES:
        yield f"{where} sets SELinux type {kind}"
    for field in ("user", "role"):
        if options.get(field) not in (None, ""):
            yield f"{where} sets a custom SELinux {field}"


@resource_policy(
    name="kubernetes-pod-selinux-options-restricted",
    types=may_carry_pods,
    unknowns="values",
    severity="high",
    description="Pods must not set a custom SELinux user or role, nor a type outside the container types.",
    remediation=(
        "Remove `seLinuxOptions.user` and `.role`; leave `.type` unset or one of container_t, "
        "container_init_t, container_kvm_t, container_engine_t."
    ),
    controls=pss_baseline("SELinux"),
)
def selinux_options(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    for pod in _known_pods(r):
        if isinstance(pod, Undecided):
            yield pod
            continue
        yield from _selinux_problems(pod.label("pod"), read(pod.spec, "securityContext", "seLinuxOptions"))
        for label, container in pod.containers():
            yield from _selinux_problems(label, _context(container, "seLinuxOptions"))


@resource_policy(
    name="kubernetes-pod-proc-mount-default",
    types=may_carry_pods,
    unknowns="values",
    severity="high",
    description="Containers must keep the default /proc mount (procMount unset or Default).",
    remediation="Remove `securityContext.procMount` (or set it to Default).",
    controls=pss_baseline("/proc Mount Type"),
)
def proc_mount_default(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    for pod in _known_pods(r):
        if isinstance(pod, Undecided):
            yield pod
            continue
        for label, container in pod.containers():
            value = _context(container, "procMount")
            if is_unknown(value):
                yield _undecided(label, "securityContext.procMount")
            elif value not in (None, "Default"):
                yield f"{label} sets procMount: {value}"


@resource_policy(
    name="kubernetes-pod-sysctls-safe",
    types=may_carry_pods,
    unknowns="values",
    severity="high",
    description="Pods may set only the safe, namespaced sysctls the baseline profile allows.",
    remediation="Remove the sysctl, or tune the node through its pool's kubelet configuration instead.",
    controls=pss_baseline("Sysctls"),
)
def sysctls_safe(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    for pod in _known_pods(r):
        if isinstance(pod, Undecided):
            yield pod
            continue
        for sysctl in as_list(read(pod.spec, "securityContext", "sysctls")):
            name = read(sysctl, "name")
            if is_unknown(name):
                yield _undecided(pod.label("pod"), "a sysctl name")
            elif name not in SAFE_SYSCTLS:
                yield pod.label(f"pod sets the unsafe sysctl {name}")


@resource_policy(
    name="kubernetes-pod-volume-types-restricted",
    types=may_carry_pods,
    unknowns="values",
    severity="medium",
    description=(
        "Pods may mount only the restricted profile's volume types: configMap, csi, downwardAPI, "
        "emptyDir, ephemeral, persistentVolumeClaim, projected and secret."
    ),
    remediation="Reach the storage through a PersistentVolumeClaim or a CSI volume instead.",
    controls=pss("Volume Types"),
)
def volume_types_restricted(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    for pod in _known_pods(r):
        if isinstance(pod, Undecided):
            yield pod
            continue
        for volume in _volumes(pod):
            kinds = set(volume) - _VOLUME_META
            if "hostPath" in volume:
                continue  # kubernetes-pod-disallow-host-path reports it
            for kind in sorted(kinds - RESTRICTED_VOLUMES):
                yield pod.label(f"volume {volume.get('name')!r} is of type {kind}")


POLICIES = (
    disallow_privileged,
    disallow_host_process,
    disallow_host_namespaces,
    disallow_host_path,
    disallow_host_ports,
    drop_all_capabilities,
    disallow_privilege_escalation,
    run_as_non_root,
    seccomp_runtime_default,
    read_only_root_filesystem,
    apparmor_not_unconfined,
    selinux_options,
    proc_mount_default,
    sysctls_safe,
    volume_types_restricted,
)
