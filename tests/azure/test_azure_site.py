"""The Azure site's security properties, asserted on the resources the offline plan records."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from plan_helpers import config_plan, only, stack_config, whole_plan

from lepton_infra.plan.model import Plan, PlanResource

# Built-in role IDs as Microsoft documents them:
# https://learn.microsoft.com/en-us/azure/role-based-access-control/built-in-roles
DOCUMENTED_ROLES = {
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Key Vault Crypto Service Encryption User": "e147488a-f6f5-4113-8e2d-b22465e65bf6",
    "Key Vault Crypto User": "12338af0-0e69-4776-bea7-57ae8d297424",
    "Key Vault Contributor": "f25e0fa2-a7c8-4377-a976-54943a77a395",
    "AzureNetwork Contributor": "4d97b98b-1d4f-4787-a291-c67834d212e7",
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
}


@pytest.fixture(scope="module")
def prod() -> Plan:
    return whole_plan("azure-prod")


def out(resource: PlanResource, key: str) -> str:
    value: str = resource.outputs[key]
    return value


def cluster_inputs(plan: Plan) -> dict[str, Any]:
    return only(plan, "azure-native:containerservice:ManagedCluster").inputs


def role(assignment: PlanResource) -> str:
    definition: str = assignment.inputs["roleDefinitionId"]
    return next(
        name for name, guid in DOCUMENTED_ROLES.items() if definition.endswith(f"/roleDefinitions/{guid}")
    )


def grants(plan: Plan) -> list[tuple[str, str, str]]:
    """(role name, principal, scope) of every role assignment."""
    return [
        (role(a), a.inputs["principalId"], a.inputs["scope"])
        for a in plan.of_type("azure-native:authorization:RoleAssignment")
    ]


def test_every_azure_resource_uses_the_sites_explicit_provider(prod: Plan) -> None:
    provider = only(prod, "pulumi:providers:azure-native")
    assert provider.inputs["location"] == "westeurope"
    azure = [r for r in prod.custom_resources() if r.type.startswith("azure-native:")]
    assert len(azure) > 40
    assert {r.provider.split("::")[-2] if r.provider else None for r in azure} == {provider.name}


def test_etcd_is_encrypted_by_kms_with_the_sites_key_in_its_private_vault(prod: Plan) -> None:
    kms = cluster_inputs(prod)["securityProfile"]["azureKeyVaultKms"]
    key = only(prod, "azure-native:keyvault:Key")
    assert kms == {
        "enabled": True,
        "keyId": out(key, "keyUriWithVersion"),
        "keyVaultNetworkAccess": "Private",
        "keyVaultResourceId": out(only(prod, "azure-native:keyvault:Vault"), "id"),
    }


def test_node_disks_are_encrypted_through_a_disk_encryption_set_on_the_same_key(prod: Plan) -> None:
    des = only(prod, "azure-native:compute:DiskEncryptionSet")
    key = only(prod, "azure-native:keyvault:Key")
    assert des.inputs["encryptionType"] == "EncryptionAtRestWithCustomerKey"
    assert des.inputs["activeKey"] == {
        "keyUrl": out(key, "keyUri"),
        "sourceVault": {"id": out(only(prod, "azure-native:keyvault:Vault"), "id")},
    }
    assert des.inputs["rotationToLatestKeyVersionEnabled"] is True
    assert cluster_inputs(prod)["diskEncryptionSetID"] == out(des, "id")
    des_principal = des.outputs["identity"]["principalId"]
    assert ("Key Vault Crypto Service Encryption User", des_principal, out(key, "id")) in grants(prod)
    for pool in [
        *cluster_inputs(prod)["agentPoolProfiles"],
        *[p.inputs for p in prod.of_type("azure-native:containerservice:AgentPool")],
    ]:
        assert pool["osDiskType"] == "Managed"
        assert pool["enableEncryptionAtHost"] is True


def test_control_plane_identity_holds_exactly_the_grants_kms_disks_and_subnets_need(prod: Plan) -> None:
    identity = only(prod, "azure-native:managedidentity:UserAssignedIdentity", "control-plane")
    assert cluster_inputs(prod)["identity"] == {
        "type": "UserAssigned",
        "userAssignedIdentities": [out(identity, "id")],
    }
    subnets = {s.name.rsplit("-", 1)[-1]: out(s, "id") for s in prod.of_type("azure-native:network:Subnet")}
    expected = {
        ("AzureNetwork Contributor", subnets["nodes"]),
        ("AzureNetwork Contributor", subnets["apiserver"]),
        ("Key Vault Crypto User", out(only(prod, "azure-native:keyvault:Key"), "id")),
        ("Key Vault Contributor", out(only(prod, "azure-native:keyvault:Vault"), "id")),
        ("Reader", out(only(prod, "azure-native:compute:DiskEncryptionSet"), "id")),
    }
    assert {(r, s) for r, p, s in grants(prod) if p == out(identity, "principalId")} == expected


def test_api_server_is_private_and_projected_into_the_vnet(prod: Plan) -> None:
    access = cluster_inputs(prod)["apiServerAccessProfile"]
    assert access == {
        "enablePrivateCluster": True,
        "enablePrivateClusterPublicFQDN": False,
        "privateDNSZone": "system",
        "enableVnetIntegration": True,
        "subnetId": out(only(prod, "azure-native:network:Subnet", "apiserver"), "id"),
        "disableRunCommand": True,
    }


def test_an_allowlist_opens_the_api_only_to_those_cidrs() -> None:
    platform = copy.deepcopy(stack_config("azure-prod"))
    platform["sites"][0]["network"]["api_allowlist"] = ["203.0.113.0/24"]
    access = cluster_inputs(config_plan(platform))["apiServerAccessProfile"]
    assert access["enablePrivateCluster"] is False
    assert access["authorizedIPRanges"] == ["203.0.113.0/24"]


def test_sign_in_is_entra_only_with_azure_rbac_and_no_local_accounts(prod: Plan) -> None:
    cluster = cluster_inputs(prod)
    assert cluster["disableLocalAccounts"] is True
    assert cluster["enableRBAC"] is True
    assert cluster["aadProfile"] == {
        "managed": True,
        "enableAzureRBAC": True,
        "adminGroupObjectIDs": ["3f2504e0-4f89-41d3-9a0c-0305e82c3301"],
        "tenantID": "00000000-0000-4000-8000-00000000000a",
    }


def test_cluster_is_pinned_auto_patched_and_uses_cilium_overlay_behind_nat(prod: Plan) -> None:
    cluster = cluster_inputs(prod)
    assert cluster["kubernetesVersion"] == "1.33"
    assert cluster["autoUpgradeProfile"] == {"upgradeChannel": "patch", "nodeOSUpgradeChannel": "NodeImage"}
    network = cluster["networkProfile"]
    assert network["networkPlugin"] == "azure"
    assert network["networkPluginMode"] == "overlay"
    assert network["networkPolicy"] == network["networkDataplane"] == "cilium"
    assert network["outboundType"] == "userAssignedNATGateway"


def test_nodes_get_no_public_ips_and_leave_only_through_the_nat_gateway(prod: Plan) -> None:
    nat = only(prod, "azure-native:network:NatGateway")
    for subnet in prod.of_type("azure-native:network:Subnet"):
        assert subnet.inputs["defaultOutboundAccess"] is False
    assert only(prod, "azure-native:network:Subnet", "nodes").inputs["natGateway"] == {"id": out(nat, "id")}
    delegations = only(prod, "azure-native:network:Subnet", "apiserver").inputs["delegations"]
    assert delegations[0]["serviceName"] == "Microsoft.ContainerService/managedClusters"
    pools = [
        *cluster_inputs(prod)["agentPoolProfiles"],
        *[p.inputs for p in prod.of_type("azure-native:containerservice:AgentPool")],
    ]
    assert all(p["enableNodePublicIP"] is False for p in pools)
    assert all(p["securityProfile"] == {"sshAccess": "Disabled"} for p in pools)


def test_oidc_issuer_and_workload_identity_are_on(prod: Plan) -> None:
    cluster = cluster_inputs(prod)
    assert cluster["oidcIssuerProfile"] == {"enabled": True}
    assert cluster["securityProfile"]["workloadIdentity"] == {"enabled": True}


def test_each_workload_identity_trusts_only_its_service_account_on_this_cluster(prod: Plan) -> None:
    issuer = only(prod, "azure-native:containerservice:ManagedCluster").outputs["oidcIssuerProfile"][
        "issuerURL"
    ]
    credential = only(prod, "azure-native:managedidentity:FederatedIdentityCredential", "pretrain")
    identity = only(prod, "azure-native:managedidentity:UserAssignedIdentity", "pretrain")
    assert credential.inputs["issuer"] == issuer
    assert credential.inputs["subject"] == "system:serviceaccount:ml:pretrain"
    assert credential.inputs["audiences"] == ["api://AzureADTokenExchange"]
    assert credential.inputs["resourceName"] == out(identity, "name")
    account = only(prod, "kubernetes:core/v1:ServiceAccount", "pretrain")
    assert account.inputs["metadata"]["annotations"] == {
        "azure.workload.identity/client-id": out(identity, "clientId")
    }
    job = only(prod, "kubernetes:batch/v1:Job", "pretrain")
    assert job.inputs["spec"]["template"]["metadata"]["labels"]["azure.workload.identity/use"] == "true"


def test_workloads_may_only_read_and_write_the_artifact_container(prod: Plan) -> None:
    container = out(only(prod, "azure-native:storage:BlobContainer"), "id")
    for name in ("pretrain", "serve"):
        principal = out(only(prod, "azure-native:managedidentity:UserAssignedIdentity", name), "principalId")
        assert [(r, s) for r, p, s in grants(prod) if p == principal] == [
            ("Storage Blob Data Contributor", container)
        ]


def test_kubelet_identity_may_pull_from_the_sites_registry_only(prod: Plan) -> None:
    kubelet = only(prod, "azure-native:containerservice:ManagedCluster").outputs["identityProfile"][
        "kubeletidentity"
    ]
    registry = out(only(prod, "azure-native:containerregistry:Registry"), "id")
    assert [(r, s) for r, p, s in grants(prod) if p == kubelet["objectId"]] == [("AcrPull", registry)]


def test_every_role_is_a_documented_built_in_scoped_to_one_of_our_resources(prod: Plan) -> None:
    group = out(only(prod, "azure-native:resources:ResourceGroup"), "id")
    assignments = prod.of_type("azure-native:authorization:RoleAssignment")
    assert len(assignments) == 11
    for assignment in assignments:
        role(assignment)  # raises StopIteration for an undocumented role ID
        assert assignment.inputs["roleDefinitionId"].startswith("/subscriptions/")
        assert assignment.inputs["principalType"] == "ServicePrincipal"
        # A resource inside our group: never the subscription or the group itself.
        assert assignment.inputs["scope"].startswith(f"{group}/providers/")


def test_gpu_pools_are_tainted_labelled_and_scale_from_zero(prod: Plan) -> None:
    h100 = only(prod, "azure-native:containerservice:AgentPool", "h100").inputs
    assert h100["vmSize"] == "Standard_ND96isr_H100_v5"
    assert h100["mode"] == "User"
    assert h100["nodeTaints"] == ["nvidia.com/gpu=present:NoSchedule"]
    assert h100["nodeLabels"] == {"lepton.ai/accelerator": "H100", "lepton.ai/pool": "h100"}
    assert (h100["enableAutoScaling"], h100["minCount"], h100["maxCount"]) == (True, 0, 4)
    assert h100["scaleSetPriority"] == "Regular"
    assert "scaleSetEvictionPolicy" not in h100
    assert h100["gpuProfile"] == {"driver": "Install"}
    system = cluster_inputs(prod)["agentPoolProfiles"][0]
    assert system["mode"] == "System"
    assert system["nodeTaints"] == []


def test_spot_pools_are_deleted_on_eviction_and_tolerated_by_their_pods(prod: Plan) -> None:
    t4 = only(prod, "azure-native:containerservice:AgentPool", "t4").inputs
    assert t4["vmSize"] == "Standard_NC16as_T4_v3"
    assert (t4["scaleSetPriority"], t4["scaleSetEvictionPolicy"], t4["spotMaxPrice"]) == (
        "Spot",
        "Delete",
        -1,
    )
    assert "kubernetes.azure.com/scalesetpriority=spot:NoSchedule" in t4["nodeTaints"]
    tolerations = only(prod, "kubernetes:apps/v1:Deployment", "serve").inputs["spec"]["template"]["spec"][
        "tolerations"
    ]
    assert {
        "key": "kubernetes.azure.com/scalesetpriority",
        "operator": "Equal",
        "value": "spot",
        "effect": "NoSchedule",
    } in tolerations


def test_spot_max_price_reaches_spot_pools_only() -> None:
    platform = copy.deepcopy(stack_config("azure-prod"))
    platform["sites"][0]["spot_max_price_usd_per_hour"] = 1.25
    plan = config_plan(platform)
    assert only(plan, "azure-native:containerservice:AgentPool", "t4").inputs["spotMaxPrice"] == 1.25
    assert "spotMaxPrice" not in only(plan, "azure-native:containerservice:AgentPool", "h100").inputs


def test_vault_uses_rbac_purge_protection_and_no_public_network(prod: Plan) -> None:
    properties = only(prod, "azure-native:keyvault:Vault").inputs["properties"]
    assert properties["enableRbacAuthorization"] is True
    assert properties["enablePurgeProtection"] is True
    assert properties["enableSoftDelete"] is True
    assert properties["softDeleteRetentionInDays"] == 90
    assert properties["publicNetworkAccess"] == "Disabled"
    assert properties["networkAcls"]["defaultAction"] == "Deny"
    assert "accessPolicies" not in properties


def test_key_is_hsm_backed_rotates_and_rotated_versions_expire(prod: Plan) -> None:
    properties = only(prod, "azure-native:keyvault:Key").inputs["properties"]
    assert properties["kty"] == "RSA-HSM"
    assert properties["attributes"] == {"enabled": True, "exportable": False}
    policy = properties["rotationPolicy"]
    assert policy["attributes"] == {"expiryTime": "P365D"}
    assert {"action": {"type": "rotate"}, "trigger": {"timeAfterCreate": "P180D"}} in policy[
        "lifetimeActions"
    ]
    assert {"action": {"type": "notify"}, "trigger": {"timeBeforeExpiry": "P30D"}} in policy[
        "lifetimeActions"
    ]


def test_registry_is_premium_private_cmk_encrypted_and_prunes_untagged(prod: Plan) -> None:
    registry = only(prod, "azure-native:containerregistry:Registry").inputs
    identity = only(prod, "azure-native:managedidentity:UserAssignedIdentity", "registry-cmk")
    assert registry["sku"] == {"name": "Premium"}
    assert registry["adminUserEnabled"] is False
    assert registry["anonymousPullEnabled"] is False
    assert registry["publicNetworkAccess"] == "Disabled"
    assert registry["encryption"] == {
        "status": "enabled",
        "keyVaultProperties": {
            "keyIdentifier": out(only(prod, "azure-native:keyvault:Key"), "keyUri"),
            "identity": out(identity, "clientId"),
        },
    }
    assert registry["policies"]["retentionPolicy"] == {"status": "enabled", "days": 14}
    assert registry["policies"]["exportPolicy"] == {"status": "disabled"}


def test_storage_is_https_tls12_keyless_private_versioned_and_cmk_encrypted(prod: Plan) -> None:
    account = only(prod, "azure-native:storage:StorageAccount").inputs
    assert account["enableHttpsTrafficOnly"] is True
    assert account["minimumTlsVersion"] == "TLS1_2"
    assert account["allowBlobPublicAccess"] is False
    assert account["allowSharedKeyAccess"] is False
    assert account["publicNetworkAccess"] == "Disabled"
    encryption = account["encryption"]
    assert encryption["keySource"] == "Microsoft.Keyvault"
    assert encryption["keyVaultProperties"]["keyName"] == out(only(prod, "azure-native:keyvault:Key"), "name")
    assert encryption["requireInfrastructureEncryption"] is True
    blob = only(prod, "azure-native:storage:BlobServiceProperties").inputs
    assert blob["isVersioningEnabled"] is True
    assert (
        blob["deleteRetentionPolicy"]
        == blob["containerDeleteRetentionPolicy"]
        == {"enabled": True, "days": 30}
    )
    assert only(prod, "azure-native:storage:BlobContainer").inputs["publicAccess"] == "None"


def test_private_services_are_reached_through_endpoints_in_the_vnet(prod: Plan) -> None:
    targets = {
        e.inputs["privateLinkServiceConnections"][0]["groupIds"][0]: e.inputs[
            "privateLinkServiceConnections"
        ][0]["privateLinkServiceId"]
        for e in prod.of_type("azure-native:network:PrivateEndpoint")
    }
    assert targets == {
        "vault": out(only(prod, "azure-native:keyvault:Vault"), "id"),
        "registry": out(only(prod, "azure-native:containerregistry:Registry"), "id"),
        "blob": out(only(prod, "azure-native:storage:StorageAccount"), "id"),
    }
    zones = {z.inputs["privateZoneName"] for z in prod.of_type("azure-native:privatedns:PrivateZone")}
    assert zones == {
        "privatelink.vaultcore.azure.net",
        "privatelink.azurecr.io",
        "privatelink.blob.core.windows.net",
    }


def test_container_insights_send_to_a_workspace_with_retention(prod: Plan) -> None:
    workspace = only(prod, "azure-native:operationalinsights:Workspace")
    assert workspace.inputs["retentionInDays"] == 90
    assert workspace.inputs["features"]["disableLocalAuth"] is True
    oms = cluster_inputs(prod)["addonProfiles"]["omsagent"]
    assert oms == {
        "enabled": True,
        "config": {"logAnalyticsWorkspaceResourceID": out(workspace, "id"), "useAADAuth": "true"},
    }
    association = only(prod, "azure-native:monitor:DataCollectionRuleAssociation").inputs
    assert association["resourceUri"] == out(only(prod, "azure-native:containerservice:ManagedCluster"), "id")
    assert association["dataCollectionRuleId"] == out(
        only(prod, "azure-native:monitor:DataCollectionRule"), "id"
    )


def test_stateful_resources_are_protected(prod: Plan) -> None:
    for type_token in (
        "azure-native:keyvault:Vault",
        "azure-native:keyvault:Key",
        "azure-native:containerregistry:Registry",
        "azure-native:storage:StorageAccount",
        "azure-native:storage:BlobContainer",
    ):
        assert only(prod, type_token).protect, type_token
    assert not only(prod, "azure-native:containerservice:ManagedCluster").protect


def test_unprotected_when_the_site_asks_for_it() -> None:
    platform = copy.deepcopy(stack_config("azure-prod"))
    platform["sites"][0]["protect_stateful"] = False
    plan = config_plan(platform)
    assert not any(r.protect for r in plan.resources)


def test_handle_offers_registry_and_artifact_container(prod: Plan) -> None:
    deployment = only(prod, "kubernetes:apps/v1:Deployment", "serve").inputs
    image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.startswith(
        out(only(prod, "azure-native:containerregistry:Registry"), "loginServer") + "/lepton/serve"
    )


def test_control_plane_and_audit_logs_go_to_the_workspace(prod: Plan) -> None:
    setting = only(prod, "azure-native:monitor:DiagnosticSetting").inputs
    assert setting["resourceUri"] == out(only(prod, "azure-native:containerservice:ManagedCluster"), "id")
    assert setting["workspaceId"] == out(only(prod, "azure-native:operationalinsights:Workspace"), "id")
    assert {"category": "kube-audit-admin", "enabled": True} in setting["logs"]
