"""A user-assigned identity for one Kubernetes service account (Entra workload identity).

The AzureWorkloadIdentity component.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import managedidentity

from lepton_infra.components.args import refuse_args
from lepton_infra.components.azure.roles import BuiltInRole, assign_role
from lepton_infra.components.azure.sdk import resource_kwargs
from lepton_infra.components.workload_identity import service_account_subject
from lepton_infra.validation import at, kubernetes_name, kubernetes_namespace

# The audience Entra ID expects in federated tokens; the AKS workload identity webhook requests it.
TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"


@dataclass(frozen=True)
class RoleGrant:
    """One built-in role on one resource, granted to a workload identity."""

    role: BuiltInRole
    """The role, e.g. ``BuiltInRole.STORAGE_BLOB_DATA_CONTRIBUTOR``."""
    scope: pulumi.Input[str]
    """Resource ID the role is granted on, e.g. an AzureArtifactStorage's ``account_id``: one resource, never
    a resource group or subscription."""


@dataclass(frozen=True)
class AzureWorkloadIdentityArgs:
    """The inputs of an AzureWorkloadIdentity."""

    resource_group_name: pulumi.Input[str]
    """The resource group the identity goes into."""
    location: str
    """The Azure region of the identity, e.g. ``westeurope``."""
    subscription_id: pulumi.Input[str]
    """The subscription the grants are made in."""
    oidc_issuer_url: pulumi.Input[str]
    """The cluster's OIDC issuer URL exactly as AKS reports it, with scheme and trailing slash (an
    AzureAksCluster's ``oidc_issuer_url``): the only issuer the identity trusts."""
    namespace: str
    """Namespace of the service account the identity is for."""
    service_account: str
    """Name of the service account the identity is for: only tokens for ``system:serviceaccount:<namespace>:
    <service_account>`` with the token-exchange audience are accepted."""
    grants: Sequence[RoleGrant] = ()
    """What the identity may do, each a role on one resource; empty: nothing."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the identity."""

    def __post_init__(self) -> None:
        refuse_args(
            self,
            [
                *at("namespace", kubernetes_namespace(self.namespace)),
                *at("service_account", kubernetes_name(self.service_account)),
            ],
        )


class AzureWorkloadIdentity(pulumi.ComponentResource):
    """A user-assigned identity that trusts only tokens the cluster's OIDC issuer signs for
    ``system:serviceaccount:<namespace>:<name>`` with the token-exchange audience, and holds only the
    ``grants`` it is given, each on one of the site's resources."""

    client_id: pulumi.Output[str]
    """Client ID of the identity: the service account's ``azure.workload.identity/client-id`` annotation."""
    principal_id: pulumi.Output[str]
    """Object ID of the identity's service principal: who role assignments name."""
    identity_id: pulumi.Output[str]
    """Resource ID of the identity."""

    def __init__(
        self, name: str, args: AzureWorkloadIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("lepton:azure:WorkloadIdentity", name, None, opts)
        identity = managedidentity.UserAssignedIdentity(
            f"{name}-id",
            managedidentity.UserAssignedIdentityArgs(
                resource_group_name=args.resource_group_name, location=args.location, tags=dict(args.tags)
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        managedidentity.FederatedIdentityCredential(
            f"{name}-federation",
            **resource_kwargs(
                managedidentity.FederatedIdentityCredentialArgs(
                    resource_group_name=args.resource_group_name,
                    resource_name=identity.name,
                    issuer=args.oidc_issuer_url,
                    subject=service_account_subject(args.namespace, args.service_account),
                    audiences=[TOKEN_EXCHANGE_AUDIENCE],
                )
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        for grant in args.grants:
            assign_role(
                f"{name}-{grant.role.name.lower().replace('_', '-')}",
                role=grant.role,
                principal_id=identity.principal_id,
                scope=grant.scope,
                subscription_id=args.subscription_id,
                parent=self,
            )
        self.client_id = identity.client_id
        self.principal_id = identity.principal_id
        self.identity_id = identity.id
        self.register_outputs({"client_id": self.client_id, "principal_id": self.principal_id})
