"""What a pod carries besides its security context: its service account and token, its secrets, its
namespace and the network policy around it; and whether its spec can be read at all."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from lepton_infra.policies.kubernetes.pods import Pod, kind_of, may_carry_pods, pods
from lepton_infra.policies.kubernetes.rbac import bindings
from lepton_infra.policies.kubernetes.selectors import SelectorIndex, labels_of
from lepton_infra.policies.rule import (
    Outcome,
    Subject,
    Undecided,
    checkov,
    cis_aks,
    cis_eks,
    resource_policy,
    subject_of,
    view_policy,
)
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import as_list, as_mapping, get, is_unknown, read
from lepton_infra.policies.view import Finding, Resource, Stack

# Environment variable names that hold credentials by convention (cloud SDKs, databases, tokens).
_SECRET_NAME = re.compile(
    r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL|CONNECTION_?STRING)",
    re.IGNORECASE,
)
# Values that are credentials whatever their name: AWS access key ids, PEM private keys, GitHub and
# Hugging Face tokens (the prefixes their issuers document).
_SECRET_VALUE = re.compile(
    r"^(AKIA|ASIA)[0-9A-Z]{16}$|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|^gh[pousr]_[A-Za-z0-9]{36}|^hf_[A-Za-z0-9]{30,}"
)


def _workloads(stack: Stack) -> Iterator[Resource]:
    return (r for r in stack.resources if r.custom and may_carry_pods(r.type))


def _namespace(props: Mapping[str, Any]) -> str:
    namespace = get(props, "metadata", "namespace")
    return str(namespace) if namespace else "default"


def _is(resource_type: str, name: str) -> bool:
    kind = kind_of(resource_type)
    return kind is not None and kind.kind == name and not kind.patch and not kind.list


@resource_policy(
    name="kubernetes-pod-spec-well-formed",
    types=may_carry_pods,
    unknowns="values",
    severity="high",
    description="Pod specs must be readable: every policy judges them, so a malformed one is not passed.",
    remediation="Fix the field the message names to the type the Kubernetes API expects.",
)
def spec_well_formed(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    for pod in pods(r):
        for problem in pod.problems:
            yield pod.label(f"malformed pod spec: {problem}")


def _service_accounts(stack: Stack) -> dict[tuple[str, str], Resource]:
    return {
        (_namespace(sa.props), str(get(sa.props, "metadata", "name"))): sa
        for sa in stack.matching(lambda t: _is(t, "ServiceAccount"))
    }


def _token_mounted(pod: Pod, accounts: dict[tuple[str, str], Resource], namespace: str) -> bool | None:
    own = read(pod.spec, "automountServiceAccountToken")
    if is_unknown(own):
        return None
    if own is not None:
        return own is not False
    name = str(get(pod.spec, "serviceAccountName", default="default"))
    account = accounts.get((namespace, name))
    return account is None or get(account.props, "automountServiceAccountToken") is not False


@view_policy(
    name="kubernetes-pod-service-account-token-not-mounted",
    severity="medium",
    description=(
        "Pods should not mount a Kubernetes API token unless they call the API: set "
        "automountServiceAccountToken: false on the pod or its ServiceAccount."
    ),
    remediation=(
        "Set `automountServiceAccountToken: false` on the pod spec (or on its ServiceAccount); mount a "
        "projected token only into the pods that call the API."
    ),
    controls=(*cis_eks("4.1.6"), *cis_aks("4.1.6"), *checkov("CKV_K8S_38")),
)
def service_account_token(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    accounts = _service_accounts(stack)
    for workload in _workloads(stack):
        namespace = _namespace(workload.props)
        for pod in pods(subject_of(stack, workload)):
            if pod.unknown or pod.partial:
                continue
            mounted = _token_mounted(pod, accounts, namespace)
            if mounted is None:
                message = pod.label(
                    f"{workload.name}: automountServiceAccountToken can't be known during preview"
                )
                yield Finding(message, workload.urn, True)
            elif mounted:
                yield Finding(pod.label("pod mounts a service account token"), workload.urn)


@view_policy(
    name="kubernetes-default-service-account-unused",
    severity="medium",
    description=(
        "The default service account must not be used: pods name their own, it mounts no token, and "
        "nothing binds a role to it."
    ),
    remediation=(
        "Create a ServiceAccount per workload and set `serviceAccountName`; set "
        "`automountServiceAccountToken: false` on each namespace's default ServiceAccount."
    ),
    controls=(*cis_eks("4.1.5"), *cis_aks("4.1.5"), *checkov("CKV_K8S_41", "CKV_K8S_42")),
)
def default_service_account_unused(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    for account in stack.matching(lambda t: _is(t, "ServiceAccount")):
        if (
            get(account.props, "metadata", "name") == "default"
            and get(account.props, "automountServiceAccountToken") is not False
        ):
            yield Finding("the default service account mounts its token", account.urn)
    for binding in bindings(stack):
        for subject in as_list(read(binding.props, "subjects")):
            if get(subject, "kind") == "ServiceAccount" and get(subject, "name") == "default":
                namespace = get(subject, "namespace")
                yield Finding(
                    f"binds a role to the default service account of namespace {namespace}", binding.urn
                )
    for workload in _workloads(stack):
        for pod in pods(subject_of(stack, workload)):
            if pod.unknown or pod.partial:
                continue
            name = read(pod.spec, "serviceAccountName")
            if name in (None, "", "default"):
                yield Finding(pod.label("pod runs as the default service account"), workload.urn)


def _env(container: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for entry in as_list(container.get("env")):
        if isinstance(entry, Mapping):
            yield entry


@resource_policy(
    name="kubernetes-pod-no-plaintext-secrets-in-env",
    types=may_carry_pods,
    unknowns="values",
    severity="high",
    description=(
        "Containers must not carry credentials in plain environment values: they land in the plan, "
        "the manifests and the API server's objects."
    ),
    remediation=(
        "Store the value in a Secret (or the cloud's secret store) and mount it as a file; the pod's "
        "workload identity needs no key at all."
    ),
    controls=(*cis_eks("4.4.2"),),
)
def no_plaintext_secrets(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    for pod in pods(r):
        for label, container in pod.containers():
            for entry in _env(container):
                name, value = str(entry.get("name", "")), entry.get("value")
                if not isinstance(value, str) or value == "" or is_unknown(value):
                    continue
                if _SECRET_VALUE.search(value):
                    yield f"{label} sets {name} to a credential in plain text"
                elif _SECRET_NAME.search(name) and not value.startswith(("/", "$(")):
                    yield f"{label} sets {name} in plain text (its name says it is a credential)"


@resource_policy(
    name="kubernetes-pod-secrets-as-files",
    types=may_carry_pods,
    unknowns="values",
    severity="low",
    description="Secrets should reach containers as files, not environment variables (which leak into logs).",
    remediation="Mount the Secret as a volume and read the file, instead of `secretKeyRef` or `envFrom`.",
    controls=(*cis_eks("4.4.1"), *cis_aks("4.5.1"), *checkov("CKV_K8S_35")),
)
def secrets_as_files(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    for pod in pods(r):
        for label, container in pod.containers():
            refs = [
                str(e.get("name"))
                for e in _env(container)
                if read(e, "valueFrom", "secretKeyRef") is not None
            ]
            refs += [
                f"all of {get(e, 'secretRef', 'name')}"
                for e in as_list(container.get("envFrom"))
                if get(e, "secretRef") is not None
            ]
            if refs:
                yield f"{label} reads secrets into its environment ({', '.join(refs)})"


@view_policy(
    name="kubernetes-namespace-network-policy",
    severity="medium",
    description=(
        "Every pod must be selected by a NetworkPolicy of its namespace, so it is not open to all others."
    ),
    remediation=(
        "Add a NetworkPolicy to the namespace (a default deny with `podSelector: {}`, then the flows the "
        "workload needs); the cluster's CNI must enforce it."
    ),
    controls=(*cis_eks("4.3.2"), *cis_aks("4.4.2"), *checkov("CKV2_K8S_6")),
)
def namespace_network_policy(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    workloads = []
    for workload in _workloads(stack):
        kind = kind_of(workload.type)
        if kind is not None and kind.builtin and not kind.patch:
            for pod in pods(subject_of(stack, workload)):
                if not pod.unknown:
                    labels = labels_of(read(pod.template, "metadata", "labels"))
                    workloads.append((workload, _namespace(workload.props), labels))
    policies = [
        (_namespace(p.props), as_mapping(read(p.props, "spec", "podSelector")))
        for p in stack.matching(lambda t: _is(t, "NetworkPolicy"))
    ]
    index = SelectorIndex(policies, (labels for _, _, labels in workloads))
    namespaces = {namespace for namespace, _ in policies}
    for workload, namespace, labels in workloads:
        if not index.selects(namespace, labels):
            message = (
                f"namespace {namespace} has no NetworkPolicy"
                if namespace not in namespaces
                else f"no NetworkPolicy of namespace {namespace} selects the pods of {workload.name}"
            )
            yield Finding(message, workload.urn)


@resource_policy(
    name="kubernetes-workload-not-in-default-namespace",
    types=may_carry_pods,
    unknowns="values",
    severity="low",
    description="Workloads should run in their own namespace, not `default`.",
    remediation="Set `metadata.namespace` to the team's or the application's namespace.",
    controls=(*cis_eks("4.5.4"), *cis_aks("4.6.4"), *checkov("CKV_K8S_21")),
)
def not_in_default_namespace(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    kind = kind_of(r.type)
    if kind is None or kind.patch or not pods(r):
        return
    namespace = read(r.props, "metadata", "namespace")
    if is_unknown(namespace):
        yield Undecided("metadata.namespace can't be known during preview")
    elif namespace in (None, "", "default"):
        yield "the workload runs in the default namespace"


POLICIES = (
    spec_well_formed,
    service_account_token,
    default_service_account_unused,
    no_plaintext_secrets,
    secrets_as_files,
    namespace_network_policy,
    not_in_default_namespace,
)
