"""AzureAksCluster: a private, Entra-only AKS control plane with KMS-encrypted etcd and workload identity."""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import yaml
from pulumi_azure_native import authorization, containerservice, managedidentity

from lepton_infra.components.args import refuse_args
from lepton_infra.components.azure.monitoring import container_insights, control_plane_logs, log_workspace
from lepton_infra.components.azure.node_pool import AzureNodePoolArgs, pool_fields
from lepton_infra.components.azure.propagation import ROLE_PROPAGATION_SECONDS, after_role_assignments
from lepton_infra.components.azure.roles import BuiltInRole, assign_role
from lepton_infra.components.azure.sdk import resource_kwargs
from lepton_infra.validation import (
    LOG_ANALYTICS_RETENTION_DAYS,
    Problem,
    api_allowlist,
    at,
    at_least,
    cidr,
    each,
    kubernetes_version,
    not_empty,
    one_of,
    overlapping_ranges,
    under,
    uuid,
    whole,
    within,
)

SYSTEM_POOL = "system"
# What the cluster's network policy may be: a value both its dataplane and its policy engine take.
NETWORK_POLICIES = sorted(
    {d.value for d in containerservice.NetworkDataplane} & {p.value for p in containerservice.NetworkPolicy}
)
# Cluster DNS takes this address of the service range (its index from the network's address).
CLUSTER_DNS_INDEX = 10


@dataclass(frozen=True)
class AzureAksClusterArgs:
    """The inputs of an AzureAksCluster."""

    cluster_name: str
    """The AKS cluster's name, unique in its resource group; also its DNS prefix, which cannot change."""
    resource_group_name: pulumi.Input[str]
    """The resource group the cluster goes into (AKS puts the nodes in a node resource group of its own)."""
    location: str
    """The Azure region, e.g. ``westeurope``."""
    subscription_id: pulumi.Input[str]
    """The subscription the control-plane identity's grants are made in."""
    tenant_id: pulumi.Input[str]
    """The Entra ID tenant users sign in through."""
    kubernetes_version: str
    """The Kubernetes minor version the control plane is pinned to, e.g. ``1.33``: one the platform supports.
    Patch versions follow ``upgrade_channel``."""
    node_subnet_id: pulumi.Input[str]
    """The nodes' subnet (an AzureNetwork's ``node_subnet_id``); egress leaves through its NAT gateway."""
    api_server_subnet_id: pulumi.Input[str]
    """A subnet delegated to AKS where the API server gets a private address (API Server VNet Integration):
    an AzureNetwork's ``api_server_subnet_id``."""
    vault_id: pulumi.Input[str]
    """Resource ID of the private vault that holds the KMS key (an AzureVaultKey's ``vault_id``)."""
    key_id: pulumi.Input[str]
    """Resource ID of the key (an AzureVaultKey's ``key_id``): the control-plane identity may encrypt and
    decrypt with it, nothing else."""
    key_uri_with_version: pulumi.Input[str]
    """The key version etcd's secrets are encrypted with (an AzureVaultKey's ``key_uri_with_version``). KMS
    pins a version; moving to a rotated one is an explicit update."""
    disk_encryption_set_id: pulumi.Input[str]
    """The disk encryption set of the nodes' OS disks (an AzureDiskEncryptionSet's ``des_id``)."""
    admin_group_object_ids: Sequence[str]
    """Object IDs (GUIDs) of the Entra ID groups whose members are cluster admins. Local accounts are
    disabled, so at least one is needed: without it, nobody could sign in."""
    system_pool: AzureNodePoolArgs
    """The system pool (CPU nodes for cluster add-ons and controllers): at least one node."""
    registry_ids: Sequence[pulumi.Input[str]] = ()
    """Registries the nodes pull from: the kubelet identity gets AcrPull on each, and nothing else."""
    api_allowlist: Sequence[str] = ()
    """CIDRs that may reach the API server's public endpoint. Empty (the default) keeps the API server private
    to the VNet. The list is judged whole: one that admits everyone (``0.0.0.0/0``, or ranges that add up
    to it) is refused; list the networks that need access."""
    network_policy: str = "cilium"
    """Who enforces NetworkPolicy, on its own dataplane: ``cilium`` or ``azure``. The platform's tenancy
    relies on it (default-deny namespaces)."""
    pod_cidr: str = "10.244.0.0/16"
    """The pods' overlay range (Azure CNI overlay): not routed in the VNet, but apart from
    ``service_cidr``."""
    service_cidr: str = "10.0.0.0/16"
    """The Kubernetes services' range: cluster DNS takes its 11th address."""
    upgrade_channel: str = "patch"
    """How AKS upgrades the control plane by itself: ``patch`` (latest patch of the pinned minor version),
    ``stable``, ``rapid``, ``node-image`` or ``none``. Node images are upgraded either way."""
    sku_tier: str = "Standard"
    """The control plane's tier: ``Standard`` (financially backed uptime SLA), ``Premium`` or ``Free`` (no
    SLA, for tests)."""
    log_retention_days: int = 90
    """Days the Log Analytics workspace keeps control-plane, audit and Container Insights data: 30 to 730."""
    prerequisite_grants: Sequence[authorization.RoleAssignment] = ()
    """Grants made outside the component that the cluster needs before its first node, e.g. the disk
    encryption set's grant on the key (an AzureDiskEncryptionSet's ``key_grant``;
    https://learn.microsoft.com/azure/aks/azure-disk-customer-managed-keys). The cluster waits for them."""
    role_propagation_seconds: int = ROLE_PROPAGATION_SECONDS
    """Seconds the cluster waits after every grant it needs before it is created, for them to take effect
    (Azure RBAC takes up to 10 minutes: ``propagation.py``)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the cluster, its identity and its Log Analytics workspace."""

    def __post_init__(self) -> None:
        refuse_args(
            self,
            [
                *at("kubernetes_version", kubernetes_version(self.kubernetes_version)),
                *at("admin_group_object_ids", not_empty(self.admin_group_object_ids, "Entra ID admin group")),
                *each(
                    "admin_group_object_ids",
                    self.admin_group_object_ids,
                    lambda g: uuid(g, "an Entra ID object ID"),
                ),
                # Judged whole: ranges that are each fine may together open the API to everyone.
                *whole("api_allowlist", self.api_allowlist, api_allowlist, str),
                # The cluster runs the same value as its dataplane and its network policy engine.
                *at("network_policy", one_of(self.network_policy, NETWORK_POLICIES)),
                *at("pod_cidr", cidr(self.pod_cidr)),
                *at("service_cidr", cidr(self.service_cidr)),
                *self._service_range(),
                *self._system_pool_runs(),
                *at(
                    "upgrade_channel",
                    one_of(self.upgrade_channel, [c.value for c in containerservice.UpgradeChannel]),
                ),
                *at(
                    "sku_tier",
                    one_of(self.sku_tier, [t.value for t in containerservice.ManagedClusterSKUTier]),
                ),
                *at(
                    "log_retention_days",
                    within(self.log_retention_days, *LOG_ANALYTICS_RETENTION_DAYS, "days"),
                ),
                *at("role_propagation_seconds", at_least(self.role_propagation_seconds, 0, "seconds")),
            ],
        )

    def _system_pool_runs(self) -> list[Problem]:
        # "System node pools require at least one node" (AKS documentation, "Manage system node pools").
        if not isinstance(self.system_pool, AzureNodePoolArgs):
            return []
        return under("system_pool", at("min_nodes", at_least(self.system_pool.min_nodes, 1, "node")))

    def _service_range(self) -> list[Problem]:
        if (
            cidr(self.pod_cidr)
            or cidr(self.service_cidr)
            or not isinstance(self.pod_cidr, str)
            or not isinstance(self.service_cidr, str)
        ):
            return []
        pods, services = ipaddress.ip_network(self.pod_cidr), ipaddress.ip_network(self.service_cidr)
        problems = overlapping_ranges({"pod_cidr": pods, "service_cidr": services})
        if services.num_addresses <= CLUSTER_DNS_INDEX:
            problems.append(
                Problem(
                    "service_cidr",
                    f"{services} is too small: cluster DNS takes its address {CLUSTER_DNS_INDEX}",
                )
            )
        return problems


class AzureAksCluster(pulumi.ComponentResource):
    """An AKS cluster on a pinned Kubernetes version with patch auto-upgrades and node-image OS upgrades.

    - Entra ID sign-in with Azure RBAC for Kubernetes; local accounts (static admin certificates) disabled.
    - API server private (or limited to ``api_allowlist``), projected into our VNet.
    - etcd secrets encrypted by KMS with the site key in a private vault; node OS disks through the disk
      encryption set. A user-assigned control-plane identity holds exactly the grants these need.
    - OIDC issuer and workload identity on, so pods get Entra tokens per service account.
    - Azure CNI overlay with Cilium or Azure network policy; egress only through the VNet's NAT gateway.
    - Control-plane and audit logs, and Container Insights, into a Log Analytics workspace with retention.

    ``kubeconfig`` is the user kubeconfig (a secret): it signs in through ``kubelogin`` with the Azure
    CLI's identity (``kubelogin --login azurecli``), so whoever runs Pulumi needs kubelogin installed,
    ``az login`` done, and membership in an admin group; there is no static credential to leak.
    """

    cluster_id: pulumi.Output[str]
    """Resource ID of the cluster."""
    cluster_name: pulumi.Output[str]
    """The cluster's name, known once AKS has created it (an AzureGpuNodePool's ``cluster_name``)."""
    oidc_issuer_url: pulumi.Output[str]
    """The cluster's OIDC issuer URL, with scheme and trailing slash, as AKS reports it: what workload
    identities trust (an AzureWorkloadIdentity's ``oidc_issuer_url``)."""
    kubelet_object_id: pulumi.Output[str]
    """Object ID of the kubelet identity, which pulls images (it holds AcrPull on ``registry_ids``)."""
    kubeconfig: pulumi.Output[str]
    """The user kubeconfig (a secret): it signs in through ``kubelogin`` with the Azure CLI's identity, so
    whoever uses it needs kubelogin, ``az login`` and membership in an admin group. No static credential."""

    def __init__(
        self, name: str, args: AzureAksClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("lepton:azure:AksCluster", name, None, opts)
        tags = dict(args.tags)
        control_plane = managedidentity.UserAssignedIdentity(
            f"{name}-control-plane",
            managedidentity.UserAssignedIdentityArgs(
                resource_group_name=args.resource_group_name, location=args.location, tags=tags
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        grants = [
            assign_role(
                f"{name}-{suffix}",
                role=role,
                principal_id=control_plane.principal_id,
                scope=scope,
                subscription_id=args.subscription_id,
                parent=self,
            )
            for suffix, role, scope in (
                ("nodes-subnet", BuiltInRole.NETWORK_CONTRIBUTOR, args.node_subnet_id),
                ("apiserver-subnet", BuiltInRole.NETWORK_CONTRIBUTOR, args.api_server_subnet_id),
                ("kms-key", BuiltInRole.KEY_VAULT_CRYPTO_USER, args.key_id),
                # KMS with a private vault: AKS creates its own private endpoint to the vault.
                ("kms-vault", BuiltInRole.KEY_VAULT_CONTRIBUTOR, args.vault_id),
                ("disk-encryption-set", BuiltInRole.READER, args.disk_encryption_set_id),
            )
        ]
        grants += args.prerequisite_grants
        propagated = after_role_assignments(
            f"{name}-grants-propagation", grants, args.role_propagation_seconds, parent=self
        )
        workspace = log_workspace(
            f"{name}-logs",
            resource_group_name=args.resource_group_name,
            location=args.location,
            retention_days=args.log_retention_days,
            tags=tags,
            parent=self,
        )
        cluster = containerservice.ManagedCluster(
            f"{name}-aks",
            **resource_kwargs(_cluster_args(args, control_plane.id, workspace.id)),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[*grants, propagated],
                # The cluster autoscaler moves the system pool's count.
                ignore_changes=["agentPoolProfiles[0].count"],
            ),
        )
        self.kubelet_object_id = cluster.identity_profile.apply(
            lambda profile: (profile or {})["kubeletidentity"].object_id or ""
        )
        for index, registry_id in enumerate(args.registry_ids):
            assign_role(
                f"{name}-kubelet-acrpull-{index}",
                role=BuiltInRole.ACR_PULL,
                principal_id=self.kubelet_object_id,
                scope=registry_id,
                subscription_id=args.subscription_id,
                parent=self,
            )
        control_plane_logs(
            f"{name}-control-plane-logs", workspace_id=workspace.id, cluster_id=cluster.id, parent=self
        )
        container_insights(
            f"{name}-insights",
            resource_group_name=args.resource_group_name,
            location=args.location,
            workspace_id=workspace.id,
            cluster_id=cluster.id,
            tags=tags,
            parent=self,
        )
        credentials = containerservice.list_managed_cluster_user_credentials_output(
            resource_group_name=args.resource_group_name,
            resource_name=cluster.name,
            format="exec",
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        self.cluster_id = cluster.id
        self.cluster_name = cluster.name
        self.oidc_issuer_url = cluster.oidc_issuer_profile.apply(
            lambda p: (p.issuer_url if p else None) or ""
        )
        self.kubeconfig = pulumi.Output.secret(
            credentials.kubeconfigs.apply(
                lambda configs: non_interactive_kubeconfig(base64.b64decode(configs[0].value).decode())
            )
        )
        self.register_outputs(
            {
                "cluster_id": self.cluster_id,
                "oidc_issuer_url": self.oidc_issuer_url,
                "kubeconfig": self.kubeconfig,
            }
        )


def _cluster_args(
    args: AzureAksClusterArgs, control_plane_id: pulumi.Input[str], workspace_id: pulumi.Input[str]
) -> containerservice.ManagedClusterArgs:
    private = not args.api_allowlist
    service_network = ipaddress.ip_network(args.service_cidr)
    return containerservice.ManagedClusterArgs(
        resource_group_name=args.resource_group_name,
        location=args.location,
        resource_name=args.cluster_name,
        dns_prefix=args.cluster_name,
        kubernetes_version=args.kubernetes_version,
        sku=containerservice.ManagedClusterSKUArgs(
            name=containerservice.ManagedClusterSKUName.BASE,
            tier=containerservice.ManagedClusterSKUTier(args.sku_tier),
        ),
        identity=containerservice.ManagedClusterIdentityArgs(
            type=containerservice.ResourceIdentityType.USER_ASSIGNED,
            user_assigned_identities=[control_plane_id],
        ),
        aad_profile=containerservice.ManagedClusterAADProfileArgs(
            managed=True,
            enable_azure_rbac=True,
            admin_group_object_ids=list(args.admin_group_object_ids),
            tenant_id=args.tenant_id,
        ),
        enable_rbac=True,
        disable_local_accounts=True,
        api_server_access_profile=containerservice.ManagedClusterAPIServerAccessProfileArgs(
            enable_private_cluster=private,
            enable_private_cluster_public_fqdn=False if private else None,
            private_dns_zone="system" if private else None,
            authorized_ip_ranges=None if private else list(args.api_allowlist),
            enable_vnet_integration=True,
            subnet_id=args.api_server_subnet_id,
            # `az aks command invoke` would bypass the private endpoint and the network path we control.
            disable_run_command=True,
        ),
        oidc_issuer_profile=containerservice.ManagedClusterOIDCIssuerProfileArgs(enabled=True),
        security_profile=containerservice.ManagedClusterSecurityProfileArgs(
            workload_identity=containerservice.ManagedClusterSecurityProfileWorkloadIdentityArgs(
                enabled=True
            ),
            azure_key_vault_kms=containerservice.AzureKeyVaultKmsArgs(
                enabled=True,
                key_id=args.key_uri_with_version,
                key_vault_network_access=containerservice.KeyVaultNetworkAccessTypes.PRIVATE,
                key_vault_resource_id=args.vault_id,
            ),
            image_cleaner=containerservice.ManagedClusterSecurityProfileImageCleanerArgs(
                enabled=True, interval_hours=168
            ),
        ),
        network_profile=containerservice.ContainerServiceNetworkProfileArgs(
            network_plugin=containerservice.NetworkPlugin.AZURE,
            network_plugin_mode=containerservice.NetworkPluginMode.OVERLAY,
            # Cilium network policy runs on the Cilium dataplane; Azure's runs on Azure's.
            network_dataplane=containerservice.NetworkDataplane(args.network_policy),
            network_policy=containerservice.NetworkPolicy(args.network_policy),
            pod_cidr=args.pod_cidr,
            service_cidr=args.service_cidr,
            dns_service_ip=str(service_network[CLUSTER_DNS_INDEX]),
            outbound_type=containerservice.OutboundType.USER_ASSIGNED_NAT_GATEWAY,
            load_balancer_sku=containerservice.LoadBalancerSku.STANDARD,
        ),
        auto_upgrade_profile=containerservice.ManagedClusterAutoUpgradeProfileArgs(
            upgrade_channel=containerservice.UpgradeChannel(args.upgrade_channel),
            node_os_upgrade_channel=containerservice.NodeOSUpgradeChannel.NODE_IMAGE,
        ),
        addon_profiles={
            "omsagent": containerservice.ManagedClusterAddonProfileArgs(
                enabled=True, config={"logAnalyticsWorkspaceResourceID": workspace_id, "useAADAuth": "true"}
            )
        },
        disk_encryption_set_id=args.disk_encryption_set_id,
        agent_pool_profiles=[
            containerservice.ManagedClusterAgentPoolProfileArgs(
                name=SYSTEM_POOL, mode=containerservice.AgentPoolMode.SYSTEM, **pool_fields(args.system_pool)
            )
        ],
        tags=dict(args.tags),
    )


def non_interactive_kubeconfig(kubeconfig: str) -> str:
    """AKS's exec kubeconfig with kubelogin's device-code login swapped for the Azure CLI's identity.

    Device code needs a person at a browser; Pulumi's Kubernetes provider runs unattended, as the
    identity that `az login` (or CI's federated login) established.
    """
    config: dict[str, Any] = yaml.safe_load(kubeconfig)
    for user in config.get("users") or []:
        command = (user.get("user") or {}).get("exec") or {}
        if command.get("command") != "kubelogin":
            continue
        arguments = [str(a) for a in command.get("args") or []]
        if "--login" in arguments:
            arguments[arguments.index("--login") + 1] = "azurecli"
        else:
            arguments += ["--login", "azurecli"]
        command["args"] = arguments
    return yaml.safe_dump(config, sort_keys=False)
