"""Azure RBAC and workload identity: no all-powerful roles, no subscription-wide grants, federated
credentials for exactly one Kubernetes service account."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lepton_infra.policies.documents import SERVICE_ACCOUNT
from lepton_infra.policies.rule import Outcome, Subject, checkov, resource_policy
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import as_list, get

ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
ROLE_DEFINITION = "azure-native:authorization:RoleDefinition"
FEDERATED_CREDENTIAL = "azure-native:managedidentity:FederatedIdentityCredential"
# Built-in roles granting `*` actions (Owner, Contributor) or role management (User Access Administrator).
_PRIVILEGED_ROLES = {
    "8e3af657-a8ff-443c-a75e-2fe8c4bc635b": "Owner",
    "b24988ac-6180-42dd-a9b6-e9915573ce2f": "Contributor",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
}
_SUBSCRIPTION_SCOPE = re.compile(
    r"^/(subscriptions/[^/]+|providers/Microsoft\.Management/managementGroups/[^/]+)?/?$", re.I
)
_TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"


@resource_policy(
    name="azure-authorization-disallow-wildcard-action",
    types=(ROLE_ASSIGNMENT, ROLE_DEFINITION),
    severity="critical",
    description=(
        "No role may grant `*` actions: no custom role with `*`, no Owner, Contributor or User Access"
        " Administrator assignment."
    ),
    remediation=(
        "Assign the narrow built-in role the identity needs (e.g. AcrPull, Storage Blob Data "
        "Contributor) or a custom role listing exact actions."
    ),
    controls=checkov("CKV_AZURE_39"),
)
def disallow_wildcard_action(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    if r.type == ROLE_ASSIGNMENT:
        role = str(get(r.props, "roleDefinitionId", default="")).rsplit("/", 1)[-1].lower()
        if role in _PRIVILEGED_ROLES:
            yield f"assigns the {_PRIVILEGED_ROLES[role]} role"
        return
    for permission in as_list(get(r.props, "permissions")):
        for kind in ("actions", "dataActions"):
            if "*" in [str(a) for a in as_list(get(permission, kind))]:
                yield f"the role definition grants `*` {kind}"


@resource_policy(
    name="azure-role-assignment-disallow-broad-scope",
    types=(ROLE_ASSIGNMENT, ROLE_DEFINITION),
    severity="high",
    description=(
        "Roles must be assigned on a resource group or resource, not a whole subscription or "
        "management group."
    ),
    remediation="Set `scope` (and a custom role's `assignableScopes`) to the resource the identity uses.",
)
def disallow_broad_scope(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    scopes = (
        [get(r.props, "scope")] if r.type == ROLE_ASSIGNMENT else as_list(get(r.props, "assignableScopes"))
    )
    for scope in scopes:
        if scope is not None and _SUBSCRIPTION_SCOPE.match(str(scope)):
            yield f"scope {scope} covers a whole subscription or management group"


@resource_policy(
    name="azure-federated-credential-single-service-account",
    types=(FEDERATED_CREDENTIAL,),
    severity="high",
    description=(
        "A workload identity's federated credential must trust exactly one Kubernetes service account."
    ),
    remediation=(
        "Set `subject: system:serviceaccount:NS:NAME`, `issuer` to the cluster's OIDC issuer and "
        "`audiences: [api://AzureADTokenExchange]`."
    ),
)
def single_service_account(r: Subject, settings: PolicySettings) -> Iterator[Outcome]:
    subject = str(get(r.props, "subject", default=""))
    if not SERVICE_ACCOUNT.match(subject):
        yield f"subject {subject!r} is not one service account (system:serviceaccount:NS:NAME)"
    if [str(a) for a in as_list(get(r.props, "audiences"))] != [_TOKEN_EXCHANGE_AUDIENCE]:
        yield f"audiences must be exactly [{_TOKEN_EXCHANGE_AUDIENCE}]"


POLICIES = (disallow_wildcard_action, disallow_broad_scope, single_service_account)
