"""Alibaba Cloud RAM: no wildcard actions or resources, RRSA roles bound to one service account."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lepton_infra.policies.documents import trust_problems, wildcard_actions, wildcard_resources
from lepton_infra.policies.rule import Outcome, Subject, resource_policy
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import document_at

POLICY = "alicloud:ram/policy:Policy"
ROLE = "alicloud:ram/role:Role"
_SUB_KEY = re.compile(r"^oidc:sub$")


@resource_policy(
    name="alicloud-ram-policy-disallow-wildcard-action",
    types=(POLICY,),
    severity="critical",
    description="RAM policies must not allow '*' or 'service:*' actions.",
    remediation="List the exact actions the principal calls (e.g. `oss:GetObject`).",
)
def disallow_wildcard_action(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    yield from wildcard_actions(document_at(r.props, "policyDocument"))


@resource_policy(
    name="alicloud-ram-policy-disallow-wildcard-resource",
    types=(POLICY,),
    severity="high",
    description="RAM policies must not grant actions on resource '*' when the action accepts an ARN.",
    remediation="Scope `Resource` to the `acs:` ARNs of the bucket, repository or key the principal uses.",
)
def disallow_wildcard_resource(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    yield from wildcard_resources(document_at(r.props, "policyDocument"))


@resource_policy(
    name="alicloud-ram-role-oidc-trust-single-service-account",
    types=(ROLE,),
    severity="high",
    description=(
        "RAM roles must not be assumable by anyone; RRSA roles trust the cluster's OIDC provider for "
        "exactly one service account."
    ),
    remediation=(
        "Trust the cluster's `oidc-provider` with `StringEquals` on `oidc:sub: "
        "system:serviceaccount:NS:NAME` and `oidc:aud: sts.aliyuncs.com`."
    ),
)
def oidc_trust(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    yield from trust_problems(
        document_at(r.props, "assumeRolePolicyDocument"), principal_kinds=("RAM", "Service"), sub_key=_SUB_KEY
    )


@resource_policy(
    name="alicloud-ram-disallow-users-and-access-keys",
    types=(
        "alicloud:ram/user:User",
        "alicloud:ram/accessKey:AccessKey",
        "alicloud:ram/loginProfile:LoginProfile",
    ),
    severity="high",
    description=(
        "People sign in through SSO and workloads use RRSA roles: no RAM users or long-lived AccessKeys."
    ),
    remediation="Use CloudSSO for people and RRSA roles for workloads; delete the user and its keys.",
)
def disallow_users_and_access_keys(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    what = {"alicloud:ram/accessKey:AccessKey": "a long-lived AccessKey"}.get(r.type, "a RAM user")
    yield f"the stack creates {what}"


POLICIES = (disallow_wildcard_action, disallow_wildcard_resource, oidc_trust, disallow_users_and_access_keys)
