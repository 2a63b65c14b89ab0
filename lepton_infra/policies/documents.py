"""Checks on IAM-style policy documents, shared by AWS IAM and Alibaba RAM (same statement grammar)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from lepton_infra.policies.rule import Outcome, Undecided
from lepton_infra.policies.values import Document, as_list, get, policy_statements

# Verbs whose APIs accept no resource ARN: for them `"Resource": "*"` is the narrowest there is.
_RESOURCELESS_VERBS = ("Describe", "List")
_RESOURCELESS_ACTIONS = frozenset(
    {
        "ecr:getauthorizationtoken",
        "sts:getcalleridentity",
        "cloudwatch:putmetricdata",
        "ec2:createtags",
        "kms:createkey",
        "tag:getresources",
        "ecs:describeinstances",
        "cr:getauthorizationtoken",
        # The AWS Price List API defines no resource types (Service Authorization Reference, "Actions
        # defined by AWS Price List"): Karpenter's pricing lookups can name no ARN.
        "pricing:getproducts",
    }
)
SERVICE_ACCOUNT = re.compile(r"^system:serviceaccount:[^:*?]+:[^:*?]+$")


def readable(document: Any, what: str = "the policy document") -> Iterator[Outcome]:
    """Why ``document`` cannot be judged: unknown until deployment (undecided), or unreadable (a
    finding: a document a rule cannot read is reported, never passed). Nothing for a readable one."""
    read = Document(document)
    if read.unknown:
        yield Undecided(f"{what} can't be known during preview")
    elif read.problem is not None:
        yield read.problem


def _allows(statement: Mapping[str, Any]) -> bool:
    return str(get(statement, "Effect", default="Allow")).lower() == "allow"


def wildcard_actions(document: Any) -> Iterator[Outcome]:
    yield from readable(document)
    for statement in policy_statements(document):
        if not _allows(statement):
            continue
        if get(statement, "NotAction") is not None:
            yield "an Allow statement uses NotAction (grants everything else)"
        for action in as_list(get(statement, "Action")):
            if str(action) == "*" or str(action).endswith(":*"):
                yield f"an Allow statement grants action {action!r}"


def _resourceless(action: str) -> bool:
    service, _, verb = action.partition(":")
    return action.lower() in _RESOURCELESS_ACTIONS or (bool(service) and verb.startswith(_RESOURCELESS_VERBS))


def wildcard_resources(document: Any) -> Iterator[Outcome]:
    yield from readable(document)
    for statement in policy_statements(document):
        resources = [str(r) for r in as_list(get(statement, "Resource"))]
        if not _allows(statement) or "*" not in resources:
            continue
        narrowable = sorted(str(a) for a in as_list(get(statement, "Action")) if not _resourceless(str(a)))
        if narrowable:
            yield f"actions {', '.join(narrowable)} are granted on resource '*' though they accept ARNs"


def _principals(statement: Mapping[str, Any], kind: str) -> list[str]:
    principal = get(statement, "Principal")
    if principal == "*":
        return ["*"]  # the bare string form means everyone, whatever the kind
    return [str(p) for p in as_list(get(principal, kind))] if isinstance(principal, Mapping) else []


def _grants_anyone(statement: Mapping[str, Any], principal_kinds: Iterable[str]) -> bool:
    return _allows(statement) and any(
        p == "*" for kind in principal_kinds for p in _principals(statement, kind)
    )


def grants_service(document: Any, service: str, action: str) -> bool | None:
    """Whether an Allow statement of ``document`` lets the service principal ``service`` do ``action``
    (named, as ``<service>:*`` or ``*``); None where the document cannot be read (unknown, secret)."""
    read = Document(document)
    if read.unknown or read.problem is not None:
        return None
    prefix = action.partition(":")[0]
    return any(
        _allows(statement)
        and service in _principals(statement, "Service")
        and any(str(a) in (action, f"{prefix}:*", "*") for a in as_list(get(statement, "Action")))
        for statement in read.statements
    )


def public_grants(document: Any, principal_kinds: Iterable[str]) -> Iterator[Outcome]:
    """Allow statements for any principal with no condition narrowing them: a public resource."""
    yield from readable(document)
    kinds = tuple(principal_kinds)
    for statement in policy_statements(document):
        if _grants_anyone(statement, kinds) and not get(statement, "Condition"):
            actions = ", ".join(str(a) for a in as_list(get(statement, "Action")))
            yield f"a policy statement allows {actions} to any principal ('*')"


def trust_problems(
    document: Any, *, principal_kinds: Iterable[str], sub_key: re.Pattern[str]
) -> Iterator[Outcome]:
    """What makes a role's trust too wide: anyone may assume it, or a federated (OIDC) trust that is not
    pinned to exactly one Kubernetes service account."""
    yield from readable(document, "the trust policy")
    kinds = tuple(principal_kinds)
    for statement in policy_statements(document):
        if not _allows(statement):
            continue
        if _grants_anyone(statement, kinds):
            yield "the role can be assumed by any principal ('*')"
        federated = [p for p in _principals(statement, "Federated") if "oidc-provider" in p]
        if federated:
            condition = get(statement, "Condition", default={})
            if not isinstance(condition, Mapping):
                yield "cannot read the trust policy: its OIDC condition is not an object"
                continue
            yield from _oidc_condition_problems(condition, sub_key)


def _oidc_condition_problems(condition: Mapping[str, Any], sub_key: re.Pattern[str]) -> Iterator[str]:
    subjects: list[str] = []
    for operator, clauses in dict(condition).items():
        if not isinstance(clauses, Mapping):
            continue
        for key, values in clauses.items():
            if sub_key.search(str(key)):
                if operator != "StringEquals":
                    yield f"the OIDC subject is matched with {operator}, not StringEquals"
                subjects.extend(str(v) for v in as_list(values))
    if len(subjects) != 1 or not SERVICE_ACCOUNT.match(subjects[0]):
        shown = ", ".join(subjects) or "none"
        yield f"the OIDC trust must name one service account (system:serviceaccount:NS:NAME), not {shown}"


def denies_insecure_transport(document: object, condition_key: str) -> bool:
    """A Deny statement conditioned on ``<condition_key> = false``: the bucket refuses plain HTTP."""
    for statement in policy_statements(document):
        clauses = get(statement, "Condition", "Bool", default={})
        values = [str(v).lower() for v in as_list(get(clauses, condition_key))]
        if str(get(statement, "Effect")).lower() == "deny" and "false" in values:
            return True
    return False


def tls_only_problems(documents: Iterable[Any], condition_key: str) -> Iterator[Outcome]:
    """Why a bucket with these policy ``documents`` serves plain HTTP: nothing when one denies requests with
    ``<condition_key> = false``; else any it cannot read (that one may be the Deny: never a plain finding)."""
    documents = list(documents)
    if any(denies_insecure_transport(d, condition_key) for d in documents):
        return
    unread = [o for d in documents for o in readable(d, "the bucket policy")]
    if unread:
        yield from unread
        return
    yield f"no bucket policy denies requests without TLS ({condition_key} = false)"


# Actions that let a principal give itself (or a role it controls) more power, from Rhino Security Labs'
# AWS IAM privilege-escalation methods (https://rhinosecuritylabs.com/aws/aws-privilege-escalation-
# methods-mitigation/), the set cloudsplaining and checkov's CKV_AWS_286 check follow.
ESCALATION_ACTIONS = frozenset(
    {
        "iam:createpolicyversion",
        "iam:setdefaultpolicyversion",
        "iam:attachuserpolicy",
        "iam:attachgrouppolicy",
        "iam:attachrolepolicy",
        "iam:putuserpolicy",
        "iam:putgrouppolicy",
        "iam:putrolepolicy",
        "iam:addusertogroup",
        "iam:updateassumerolepolicy",
        "iam:createaccesskey",
        "iam:createloginprofile",
        "iam:updateloginprofile",
    }
)


def escalation_grants(document: Any) -> Iterator[Outcome]:
    """Allow statements that grant privilege-escalation actions, or iam:PassRole, on any resource."""
    yield from readable(document)
    for statement in policy_statements(document):
        if not _allows(statement):
            continue
        actions = {str(a).lower() for a in as_list(get(statement, "Action"))}
        resources = [str(x) for x in as_list(get(statement, "Resource"))]
        found = sorted(actions & ESCALATION_ACTIONS)
        if found:
            yield f"an Allow statement grants {', '.join(found)}, which escalate privileges"
        if "iam:passrole" in actions and "*" in resources:
            yield "an Allow statement grants iam:PassRole on every role ('*')"
