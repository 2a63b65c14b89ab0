"""Kubernetes RBAC: no wildcards, no privilege-escalation verbs, no cluster-admin bindings, and no exec
into pods for broad subjects.

The verbs and subresources that escalate are the ones the Kubernetes RBAC good-practices page names
(https://kubernetes.io/docs/concepts/security/rbac-good-practices/: escalate, bind, impersonate,
``pods/exec``, ``pods/attach``, ``nodes/proxy``, admission webhooks, CSR approval).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from lepton_infra.policies.kubernetes.pods import kind_of
from lepton_infra.policies.rule import (
    Outcome,
    Subject,
    Undecided,
    checkov,
    cis_aks,
    cis_eks,
    resource_policy,
    view_policy,
)
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import as_list, get, is_unknown, read
from lepton_infra.policies.view import Finding, Resource, Stack

ROLE_KINDS = frozenset({"Role", "ClusterRole"})
BINDING_KINDS = frozenset({"RoleBinding", "ClusterRoleBinding"})
# Subjects that stand for everyone, or every workload: a grant to them is a grant to an attacker.
BROAD_GROUPS = frozenset(
    {"system:anonymous", "system:unauthenticated", "system:authenticated", "system:serviceaccounts"}
)
_EXEC = frozenset({"pods/exec", "pods/attach", "nodes/proxy"})


def _is(resource_type: str, kinds: frozenset[str]) -> bool:
    kind = kind_of(resource_type)
    return kind is not None and kind.group == "rbac.authorization.k8s.io" and kind.kind in kinds


def _strings(value: Any) -> list[str]:
    return [str(v) for v in as_list(value)]


def _rules(props: Mapping[str, Any]) -> Iterator[tuple[int, list[str], list[str], list[str]]]:
    for index, rule in enumerate(as_list(read(props, "rules"))):
        yield (
            index,
            _strings(read(rule, "apiGroups")),
            _strings(read(rule, "resources")),
            _strings(read(rule, "verbs")),
        )


def _unknown_rules(props: Mapping[str, Any]) -> bool:
    rules = read(props, "rules")
    return is_unknown(rules) or any(
        is_unknown(read(rule, key)) for rule in as_list(rules) for key in ("apiGroups", "resources", "verbs")
    )


@resource_policy(
    name="kubernetes-rbac-disallow-wildcards",
    types=lambda t: _is(t, ROLE_KINDS),
    unknowns="values",
    severity="high",
    description="Roles and ClusterRoles must name their API groups, resources and verbs, never `*`.",
    remediation="List the exact apiGroups, resources and verbs the subject needs; split rules per resource.",
    controls=(*cis_eks("4.1.3"), *cis_aks("4.1.3"), *checkov("CKV_K8S_49")),
)
def disallow_wildcards(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    if _unknown_rules(r.props):
        yield from _undecided()
        return
    for index, groups, resources, verbs in _rules(r.props):
        named = (("apiGroups", groups), ("resources", resources), ("verbs", verbs))
        wild = [name for name, values in named if "*" in values]
        if wild:
            yield f"rule {index} grants `*` in {', '.join(wild)}"


def _undecided() -> Iterator[Outcome]:
    yield Undecided("the role's rules can't be known during preview")


def _escalations(groups: list[str], resources: list[str], verbs: list[str]) -> list[str]:
    found = []
    any_verb = "*" in verbs
    rbac = not groups or any(g in ("rbac.authorization.k8s.io", "*") for g in groups)
    role_resources = {"roles", "clusterroles", "*"} & set(resources)
    if rbac and role_resources and (any_verb or "escalate" in verbs):
        found.append("escalate on roles")
    if (
        rbac
        and ({"rolebindings", "clusterrolebindings", "*"} & set(resources) or role_resources)
        and (any_verb or "bind" in verbs)
    ):
        found.append("bind on roles")
    if any_verb or "impersonate" in verbs:
        targets = {"users", "groups", "serviceaccounts", "userextras", "uids", "*"} & set(resources)
        if targets:
            found.append(f"impersonate {', '.join(sorted(targets))}")
    admission = not groups or any(g in ("admissionregistration.k8s.io", "*") for g in groups)
    webhooks = {"validatingwebhookconfigurations", "mutatingwebhookconfigurations", "*"} & set(resources)
    if admission and webhooks and (any_verb or {"create", "update", "patch", "delete"} & set(verbs)):
        found.append("control over admission webhooks")
    approval = {"certificatesigningrequests/approval", "*"} & set(resources)
    if approval and (any_verb or {"update", "patch"} & set(verbs)):
        found.append("approval of certificate signing requests")
    return found


@resource_policy(
    name="kubernetes-rbac-disallow-privilege-escalation",
    types=lambda t: _is(t, ROLE_KINDS),
    unknowns="values",
    severity="high",
    description=(
        "Roles must not grant the verbs that escalate to cluster-admin: escalate, bind, impersonate, "
        "admission webhook control or CSR approval."
    ),
    remediation=(
        "Remove the verb; grant the exact role the subject needs instead of the power to grant roles."
    ),
    controls=(
        *cis_eks("4.1.8"),
        *checkov("CKV_K8S_155", "CKV_K8S_156", "CKV_K8S_157", "CKV_K8S_158", "CKV2_K8S_3"),
    ),
)
def disallow_privilege_escalation(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    if _unknown_rules(r.props):
        yield from _undecided()
        return
    for index, groups, resources, verbs in _rules(r.props):
        for escalation in _escalations(groups, resources, verbs):
            yield f"rule {index} grants {escalation}"


def _grants_exec(groups: list[str], resources: list[str], verbs: list[str]) -> bool:
    core = not groups or any(g in ("", "*") for g in groups)
    return core and bool((_EXEC | {"*"}) & set(resources)) and bool({"create", "get", "*"} & set(verbs))


def _grants_secrets(groups: list[str], resources: list[str], verbs: list[str]) -> bool:
    core = not groups or any(g in ("", "*") for g in groups)
    return (
        core and bool({"secrets", "*"} & set(resources)) and bool({"get", "list", "watch", "*"} & set(verbs))
    )


@resource_policy(
    name="kubernetes-rbac-minimize-secrets-access",
    types=lambda t: _is(t, ROLE_KINDS),
    unknowns="values",
    severity="medium",
    description="Roles should not read Secrets (get, list, watch): a Secret holds credentials.",
    remediation="Mount the one Secret the workload needs instead of granting the API to read Secrets.",
    controls=(*cis_eks("4.1.2"), *cis_aks("4.1.2")),
)
def minimize_secrets_access(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    if _unknown_rules(r.props):
        yield from _undecided()
        return
    for index, groups, resources, verbs in _rules(r.props):
        if _grants_secrets(groups, resources, verbs):
            yield f"rule {index} reads secrets ({', '.join(verbs)})"


def _role_key(namespace: str | None, kind: str, name: str) -> tuple[str, str, str]:
    return (namespace or "" if kind == "Role" else "", kind, name)


def bindings(stack: Stack) -> Iterator[Resource]:
    return iter([b for b in stack.matching(lambda t: _is(t, BINDING_KINDS)) if b.custom])


def _broad(subject: Mapping[str, Any]) -> str | None:
    kind, name = get(subject, "kind"), str(get(subject, "name", default=""))
    if kind == "Group" and (name in BROAD_GROUPS or name.startswith("system:serviceaccounts:")):
        return name
    if kind == "User" and name == "system:anonymous":
        return name
    return None


@view_policy(
    name="kubernetes-rbac-disallow-cluster-admin-binding",
    severity="critical",
    description=(
        "Nothing may be bound to the cluster-admin ClusterRole, and no role may be bound to everyone."
    ),
    remediation=(
        "Bind a role with the permissions the subject needs; never bind system:anonymous, "
        "system:unauthenticated, system:authenticated or all service accounts."
    ),
    controls=(*cis_eks("4.1.1"), *cis_aks("4.1.1")),
)
def disallow_cluster_admin_binding(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    for binding in bindings(stack):
        ref = read(binding.props, "roleRef")
        if is_unknown(ref) or is_unknown(read(binding.props, "subjects")):
            yield Finding(f"{binding.name}: the binding can't be known during preview", binding.urn, True)
            continue
        if get(ref, "kind") == "ClusterRole" and get(ref, "name") == "cluster-admin":
            yield Finding("binds the cluster-admin ClusterRole", binding.urn)
        for subject in as_list(read(binding.props, "subjects")):
            broad = _broad(subject) if isinstance(subject, Mapping) else None
            if broad in ("system:anonymous", "system:unauthenticated"):
                yield Finding(f"binds {get(ref, 'kind')} {get(ref, 'name')} to {broad}", binding.urn)


@view_policy(
    name="kubernetes-rbac-disallow-exec-for-broad-subjects",
    severity="critical",
    description=(
        "Broad subjects (all authenticated users, all service accounts) must not get pods/exec, "
        "pods/attach or nodes/proxy."
    ),
    remediation=(
        "Bind exec and attach to named users or groups of operators only; never to system:authenticated "
        "or system:serviceaccounts."
    ),
    controls=(*cis_eks("4.1.4"), *checkov("CKV2_K8S_2")),
)
def disallow_exec_for_broad_subjects(stack: Stack, _settings: PolicySettings) -> Iterator[Finding]:
    roles: dict[tuple[str, str, str], Resource] = {}
    for role in stack.matching(lambda t: _is(t, ROLE_KINDS)):
        role_kind = kind_of(role.type)
        if role_kind is not None:
            namespace = get(role.props, "metadata", "namespace")
            roles[_role_key(namespace, role_kind.kind, str(get(role.props, "metadata", "name")))] = role
    for binding in bindings(stack):
        subjects = [s for s in as_list(read(binding.props, "subjects")) if isinstance(s, Mapping)]
        broad = sorted({b for s in subjects if (b := _broad(s)) is not None})
        if not broad:
            continue
        ref = read(binding.props, "roleRef")
        kind, name = str(get(ref, "kind")), str(get(ref, "name"))
        bound = roles.get(_role_key(get(binding.props, "metadata", "namespace"), kind, name))
        if bound is None:
            continue
        if any(_grants_exec(g, res, v) for _, g, res, v in _rules(bound.props)):
            yield Finding(
                f"gives {', '.join(broad)} exec or attach into pods through {kind} {name}", binding.urn
            )


POLICIES = (
    disallow_wildcards,
    disallow_privilege_escalation,
    minimize_secrets_access,
    disallow_cluster_admin_binding,
    disallow_exec_for_broad_subjects,
)
