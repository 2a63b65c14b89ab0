"""AWS IAM: no wildcard actions, no wildcard resources where an ARN fits, workload roles bound to one
service account through the cluster's OIDC provider."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from lepton_infra.policies.documents import (
    escalation_grants,
    trust_problems,
    wildcard_actions,
    wildcard_resources,
)
from lepton_infra.policies.rule import Outcome, Subject, checkov, resource_policy
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import as_list, document_at, get, is_unknown

ROLE = "aws:iam/role:Role"
POLICY_TYPES = (
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)
_SUB_KEY = re.compile(r"oidc[^:]*:sub$|/id/[^:]+:sub$")


def _documents(r: Subject) -> Iterator[Any]:
    # Read past the strict view: a secret document is reported as unreadable, not left undecided.
    if r.type == ROLE:
        inline_policies = document_at(r.props, "inlinePolicies")
        if is_unknown(inline_policies):  # a secret or computed list: its documents are unreadable
            yield inline_policies
            return
        for inline in as_list(inline_policies):
            yield document_at(inline, "policy")
    else:
        yield document_at(r.props, "policy")


@resource_policy(
    name="aws-iam-policy-disallow-wildcard-action",
    types=(*POLICY_TYPES, ROLE),
    severity="critical",
    description="IAM policies must not allow '*' or 'service:*' actions.",
    remediation="List the exact actions the principal calls (e.g. `s3:GetObject`, `s3:PutObject`).",
    controls=checkov("CKV_AWS_62", "CKV_AWS_63"),
)
def disallow_wildcard_action(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    for document in _documents(r):
        yield from wildcard_actions(document)


@resource_policy(
    name="aws-iam-policy-disallow-wildcard-resource",
    types=(*POLICY_TYPES, ROLE),
    severity="high",
    description="IAM policies must not grant actions on resource '*' when the action accepts an ARN.",
    remediation="Scope `Resource` to the ARNs of the bucket, repository, key or cluster the principal uses.",
    controls=checkov("CKV_AWS_355"),
)
def disallow_wildcard_resource(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    for document in _documents(r):
        yield from wildcard_resources(document)


@resource_policy(
    name="aws-iam-role-oidc-trust-single-service-account",
    types=(ROLE,),
    severity="high",
    description=(
        "Roles must not be assumable by anyone; workload roles trust the cluster's OIDC provider for "
        "exactly one service account."
    ),
    remediation=(
        "Trust `sts:AssumeRoleWithWebIdentity` from the cluster's OIDC provider with `StringEquals` "
        "on `<issuer>:sub: system:serviceaccount:NS:NAME` and `<issuer>:aud: sts.amazonaws.com`."
    ),
    controls=checkov("CKV_AWS_60", "CKV_AWS_61"),
)
def oidc_trust(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    yield from trust_problems(
        document_at(r.props, "assumeRolePolicy"), principal_kinds=("AWS", "Service"), sub_key=_SUB_KEY
    )


ATTACHMENTS = (
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
)
# AWS managed policies that grant everything, or everything of IAM, or everything but IAM
# (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/).
ADMIN_POLICIES = frozenset({"AdministratorAccess", "IAMFullAccess", "PowerUserAccess"})


def _managed_arns(r: Subject) -> list[str]:
    if r.type == ROLE:
        return [str(a) for a in as_list(get(r.props, "managedPolicyArns"))]
    return [str(get(r.props, "policyArn", default=""))]


@resource_policy(
    name="aws-iam-disallow-admin-managed-policies",
    types=(*ATTACHMENTS, ROLE),
    severity="critical",
    description="No role, user or group may hold AdministratorAccess, IAMFullAccess or PowerUserAccess.",
    remediation="Attach a policy that lists the actions the principal calls, on the resources it uses.",
    controls=checkov("CKV_AWS_274"),
)
def disallow_admin_managed_policies(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    for arn in _managed_arns(r):
        if (
            arn.startswith("arn:aws")
            and ":iam::aws:policy/" in arn
            and arn.rsplit("/", 1)[-1] in ADMIN_POLICIES
        ):
            yield f"attaches the AWS managed policy {arn.rsplit('/', 1)[-1]}"


@resource_policy(
    name="aws-iam-policy-disallow-privilege-escalation",
    types=(*POLICY_TYPES, ROLE),
    severity="high",
    description=(
        "IAM policies must not grant the actions that let a principal raise its own privileges (create "
        "policy versions, attach or put policies, pass roles anywhere, mint credentials for others)."
    ),
    remediation=(
        "Remove the action, or scope it to the exact role, user or policy ARNs it must touch (iam:PassRole "
        "to the one role a service needs, with an `iam:PassedToService` condition)."
    ),
    controls=checkov("CKV_AWS_286", "CKV_AWS_287"),
)
def disallow_privilege_escalation(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    for document in _documents(r):
        yield from escalation_grants(document)


@resource_policy(
    name="aws-iam-disallow-users-and-access-keys",
    types=(
        "aws:iam/user:User",
        "aws:iam/accessKey:AccessKey",
        "aws:iam/userLoginProfile:UserLoginProfile",
        "aws:iam/userPolicy:UserPolicy",
        "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    ),
    severity="high",
    description=(
        "Humans sign in through SSO and workloads use roles: no IAM users, long-lived access keys or "
        "policies attached to users."
    ),
    remediation=(
        "Use IAM Identity Center for people and roles (IRSA, Pod Identity) for workloads; delete the "
        "user and its keys."
    ),
    controls=checkov("CKV_AWS_273", "CKV_AWS_40"),
)
def disallow_users_and_access_keys(r: Subject, _: PolicySettings) -> Iterator[Outcome]:
    what = {
        "aws:iam/user:User": "an IAM user",
        "aws:iam/accessKey:AccessKey": "a long-lived access key",
        "aws:iam/userLoginProfile:UserLoginProfile": "a console password for an IAM user",
    }.get(r.type, "a policy attached to an IAM user")
    yield f"the stack creates {what}"


POLICIES = (
    disallow_wildcard_action,
    disallow_wildcard_resource,
    oidc_trust,
    disallow_admin_managed_policies,
    disallow_privilege_escalation,
    disallow_users_and_access_keys,
)
