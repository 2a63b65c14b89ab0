"""AWS IAM: no wildcard actions, no wildcard resources where an ARN fits, workload roles bound to one
service account through the cluster's OIDC provider."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from lepton_infra.policies.documents import trust_problems, wildcard_actions, wildcard_resources
from lepton_infra.policies.rule import Outcome, Subject, checkov, resource_policy
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import as_list, get

ROLE = "aws:iam/role:Role"
POLICY_TYPES = (
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)
_SUB_KEY = re.compile(r"oidc[^:]*:sub$|/id/[^:]+:sub$")


def _documents(r: Subject) -> Iterator[Any]:
    if r.type == ROLE:
        for inline in as_list(get(r.props, "inlinePolicies")):
            yield get(inline, "policy")
    else:
        yield get(r.props, "policy")


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
        get(r.props, "assumeRolePolicy"), principal_kinds=("AWS", "Service"), sub_key=_SUB_KEY
    )


POLICIES = (disallow_wildcard_action, disallow_wildcard_resource, oidc_trust)
