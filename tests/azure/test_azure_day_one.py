"""Day one on AKS: what the real Azure APIs refuse or race on, which mocks never see (issue 13)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import yaml
from plan_helpers import ROOT, config_plan, only, stack_config, whole_plan

from lepton_infra.plan.model import Plan, PlanResource


@pytest.fixture(scope="module")
def prod() -> Plan:
    return whole_plan("azure-prod")


def test_spot_pools_send_no_upgrade_settings_because_aks_refuses_surge_there(prod: Plan) -> None:
    """AKS spot node pool docs: "There are no surge nodes available for Spot node pool upgrades"
    (https://learn.microsoft.com/azure/aks/spot-node-pool). Sending maxSurge is refused with 400
    InvalidParameter (XenitAB/terraform-modules#755, Azure/bicep#14517), and so is maxUnavailable
    (hashicorp/terraform-provider-azurerm#31129): a spot pool sends neither, nor an empty object."""
    t4 = only(prod, "azure-native:containerservice:AgentPool", "t4").inputs
    assert t4["scaleSetPriority"] == "Spot"
    assert "upgradeSettings" not in t4
    # The RP defaults surge into a pool whose type is missing (Azure/bicep#14517): the type stays explicit.
    assert t4["type"] == "VirtualMachineScaleSets"
    # Regular pools keep their surge, so upgrades replace nodes without losing capacity.
    h100 = only(prod, "azure-native:containerservice:AgentPool", "h100").inputs
    assert h100["upgradeSettings"] == {"maxSurge": "33%"}


# https://learn.microsoft.com/azure/aks/api-server-vnet-integration, section "Create a cluster with API
# Server VNet Integration using bring-your-own VNet" and its warning box, quoted:
API_SERVER_SUBNET_DOC = (
    "The minimum supported API server subnet size is `/28`.",
    "An AKS cluster reserves at least nine IPs in the subnet address space. Running out of IP addresses "
    "can prevent API server scaling and cause an API server outage.",
)
AZURE_RESERVED_PER_SUBNET = 5  # https://learn.microsoft.com/azure/virtual-network/virtual-networks-faq
RESERVED_BY_AKS = 9


@pytest.mark.parametrize("vnet", ["10.40.0.0/16", "10.30.0.0/18", "172.16.0.0/20"])
def test_the_api_server_subnet_leaves_room_beyond_the_nine_addresses_aks_reserves(vnet: str) -> None:
    """A /28 (the documented minimum) leaves 16 - 5 = 11 usable addresses against "at least nine" that AKS
    reserves: two to spare before "running out of IP addresses can prevent API server scaling and cause
    an API server outage" (API_SERVER_SUBNET_DOC). The subnet must leave at least as many spare as AKS
    reserves."""
    import ipaddress

    from lepton_infra.components.azure.network import subnet_cidrs

    api_server = ipaddress.IPv4Network(subnet_cidrs(vnet).api_server)
    assert api_server.prefixlen <= 28  # never below the documented minimum
    usable = api_server.num_addresses - AZURE_RESERVED_PER_SUBNET
    assert usable - RESERVED_BY_AKS >= RESERVED_BY_AKS


def test_the_nat_gateway_is_pinned_to_a_zone_its_public_prefix_may_serve(prod: Plan) -> None:
    """ "NAT gateway is a zonal resource"; one created without a zone is still placed in a zone Azure picks,
    which is not zone redundancy (https://learn.microsoft.com/azure/nat-gateway/nat-availability-zones).
    The site pins it to its first zone, so where egress lives is a choice in the plan, and gives it a
    zone-redundant prefix, which a zonal gateway may use (same page, public IP zone rules)."""
    nat = only(prod, "azure-native:network:NatGateway").inputs
    prefix = only(prod, "azure-native:network:PublicIPPrefix").inputs
    assert nat["zones"] == ["1"]
    assert nat["sku"] == {"name": "Standard"}
    assert prefix["zones"] == ["1", "2", "3"]


SLEEP = "time:index/sleep:Sleep"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
# https://learn.microsoft.com/azure/role-based-access-control/troubleshooting: "When you assign roles or
# remove role assignments, it can take up to 10 minutes for changes to take effect."
DOCUMENTED_PROPAGATION_SECONDS = 600


def by_urn(plan: Plan) -> dict[str, PlanResource]:
    return {r.urn: r for r in plan.resources}


def waits_after(plan: Plan, resource: PlanResource) -> list[PlanResource]:
    """The propagation waits ``resource`` depends on."""
    urns = by_urn(plan)
    return [urns[u] for u in resource.dependencies if urns[u].type == SLEEP]


def grants_awaited(plan: Plan, wait: PlanResource) -> list[PlanResource]:
    urns = by_urn(plan)
    return [urns[u] for u in wait.dependencies if urns[u].type == ROLE_ASSIGNMENT]


def key_grant_of(plan: Plan, principal_id: str) -> PlanResource:
    key_id = only(plan, "azure-native:keyvault:Key").outputs["id"]
    [grant] = [
        g
        for g in plan.of_type(ROLE_ASSIGNMENT)
        if g.inputs["principalId"] == principal_id and g.inputs["scope"] == key_id
    ]
    return grant


def assert_created_after_its_key_grant_propagated(
    plan: Plan, resource: PlanResource, grant: PlanResource
) -> None:
    [wait] = waits_after(plan, resource)
    assert grant in grants_awaited(plan, wait)
    assert wait.inputs["createDuration"] == f"{DOCUMENTED_PROPAGATION_SECONDS}s"
    # The wait runs again only when the grant it waited for is replaced.
    assert grant.outputs["id"] in wait.inputs["triggers"].values()


def test_the_registry_reaches_its_key_through_a_user_identity_and_trusted_services_after_the_grant(
    prod: Plan,
) -> None:
    """ACR CMK with a user-assigned identity against a vault with public access off is ACR's documented
    recipe: "If the key vault is in protection with a firewall or virtual network (private endpoint), you
    must enable the network setting to allow access by trusted Azure services"
    (https://learn.microsoft.com/azure/container-registry/tutorial-enable-customer-managed-keys; Key Vault's
    trusted services list "Azure Container Registry - Registry encryption using customer-managed keys",
    https://learn.microsoft.com/azure/key-vault/general/overview-vnet-service-endpoints). The failures of
    MicrosoftDocs/azure-docs#61015, #61064 and #75970 ("caller is not a trusted service") date from before
    the bypass accepted user identities (July 2021); what still fails that way is a grant not yet
    propagated, so the registry waits for it."""
    vault = only(prod, "azure-native:keyvault:Vault").inputs["properties"]
    assert vault["publicNetworkAccess"] == "Disabled"
    assert vault["networkAcls"] == {"defaultAction": "Deny", "bypass": "AzureServices"}
    registry = only(prod, "azure-native:containerregistry:Registry")
    identity = only(prod, "azure-native:managedidentity:UserAssignedIdentity", "registry-cmk")
    assert registry.inputs["identity"]["type"] == "UserAssigned"
    assert list(registry.inputs["identity"]["userAssignedIdentities"]) == [identity.outputs["id"]]
    # ACR names the identity by its client ID (azure-cli's `az acr encryption` does the same).
    assert registry.inputs["encryption"]["keyVaultProperties"]["identity"] == identity.outputs["clientId"]
    grant = key_grant_of(prod, identity.outputs["principalId"])
    assert_created_after_its_key_grant_propagated(prod, registry, grant)


def test_the_storage_account_reaches_its_key_the_same_way_after_the_grant(prod: Plan) -> None:
    """Storage: "You must use an existing user-assigned managed identity to authorize access to the key
    vault when you configure customer-managed keys while creating the storage account"
    (https://learn.microsoft.com/azure/storage/common/customer-managed-keys-configure-new-account); Azure
    Storage is a trusted service of Key Vault's firewall. Storage names the identity by resource ID."""
    account = only(prod, "azure-native:storage:StorageAccount")
    identity = only(prod, "azure-native:managedidentity:UserAssignedIdentity", "artifacts-cmk")
    encryption = account.inputs["encryption"]
    assert encryption["encryptionIdentity"] == {"encryptionUserAssignedIdentity": identity.outputs["id"]}
    assert account.inputs["networkRuleSet"]["bypass"] == "AzureServices"
    grant = key_grant_of(prod, identity.outputs["principalId"])
    assert_created_after_its_key_grant_propagated(prod, account, grant)


def test_the_cluster_waits_for_the_disk_encryption_sets_key_grant_and_its_own_grants(prod: Plan) -> None:
    """AKS BYOK: the disk encryption set's identity needs its grant on the key before node OS disks can be
    created (https://learn.microsoft.com/azure/aks/azure-disk-customer-managed-keys; Azure/ARO-HCP#834 added
    this dependency for the same failure), and "It can take up to 60 minutes for the permissions granted
    to your cluster's managed identity to propagate" (https://learn.microsoft.com/azure/aks/use-managed-identity):
    the cluster depends on every grant it needs and waits the documented RBAC bound after them."""
    cluster = only(prod, "azure-native:containerservice:ManagedCluster")
    des_principal = only(prod, "azure-native:compute:DiskEncryptionSet").outputs["identity"]["principalId"]
    des_grant = key_grant_of(prod, des_principal)
    assert des_grant.urn in cluster.dependencies
    assert_created_after_its_key_grant_propagated(prod, cluster, des_grant)
    [wait] = waits_after(prod, cluster)
    control_plane = only(prod, "azure-native:managedidentity:UserAssignedIdentity", "control-plane")
    awaited = {g.inputs["principalId"] for g in grants_awaited(prod, wait)}
    assert awaited == {des_principal, control_plane.outputs["principalId"]}


def test_a_site_may_shorten_the_wait() -> None:
    platform = copy.deepcopy(stack_config("azure-prod"))
    platform["sites"][0]["role_propagation_wait_seconds"] = 120
    plan = config_plan(platform)
    assert {w.inputs["createDuration"] for w in plan.of_type(SLEEP)} == {"120s"}


GPU_OPERATOR_VALUES = ROOT / "lepton_infra" / "catalog" / "charts" / "gpu-operator" / "values.yaml"


def key_paths(values: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for key, value in values.items():
        if isinstance(value, Mapping) and value:
            yield from key_paths(value, (*prefix, key))
        else:
            yield (*prefix, key)


def operator_release_values(plan: Plan) -> dict[str, Any]:
    release = only(plan, "kubernetes:helm.sh/v3:Release", "gpu-runtime")
    values: dict[str, Any] = release.inputs["values"]
    return values


def test_the_gpu_operator_uses_the_runtime_aks_nodes_configure_and_pins_cdi_off(prod: Plan) -> None:
    """With the driver AKS installs (gpuProfile.driver Install) and the operator's driver and toolkit off,
    the operator needs operator.runtimeClass=nvidia-container-runtime, or its pods ask for a RuntimeClass
    `nvidia` no AKS node configures and the device plugin never starts (NVIDIA's AKS install page,
    https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/microsoft-aks.html;
    NVIDIA/gpu-operator#525). CDI, on by default since chart v25.10, is pinned off: it works through the
    operator's toolkit, off here, and fails on some AKS hosts (kaito-project/kaito#2326)."""
    values = operator_release_values(prod)
    assert values["operator"]["runtimeClass"] == "nvidia-container-runtime"
    assert values["driver"]["enabled"] is False
    assert values["toolkit"]["enabled"] is False
    assert values["cdi"] == {"enabled": False}
    for pool in prod.of_type("azure-native:containerservice:AgentPool"):
        assert pool.inputs["gpuProfile"] == {"driver": "Install"}


def test_every_operator_value_the_site_sets_is_a_key_of_the_pinned_chart(prod: Plan) -> None:
    """A misspelled values key is silently ignored by Helm: each one must exist in the chart's values.yaml
    at the pinned tag (lepton_infra/catalog/charts/gpu-operator, v25.10.1)."""
    chart = yaml.safe_load(GPU_OPERATOR_VALUES.read_text())
    for path in key_paths(operator_release_values(prod)):
        node: Any = chart
        for key in path:
            assert isinstance(node, Mapping) and key in node, f"{'.'.join(path)} is not a chart value"
            node = node[key]


def test_spot_gpu_nodes_run_feature_discovery_and_the_device_plugin(prod: Plan) -> None:
    """AKS taints every spot node kubernetes.azure.com/scalesetpriority=spot:NoSchedule; the operator's
    daemonsets and node-feature-discovery's worker (whose labels the operands select on) must tolerate it,
    or spot GPU nodes never advertise nvidia.com/gpu (NVIDIA/gpu-operator#577)."""
    values = operator_release_values(prod)
    spot = {
        "key": "kubernetes.azure.com/scalesetpriority",
        "operator": "Equal",
        "value": "spot",
        "effect": "NoSchedule",
    }
    assert spot in values["daemonsets"]["tolerations"]
    assert spot in values["node-feature-discovery"]["worker"]["tolerations"]


NETWORK_OPERATOR = ROOT / "tests" / "schemas" / "network-operator"


def test_an_infiniband_pool_lives_in_one_zone_and_other_pools_span_the_site(prod: Plan) -> None:
    """AKS keeps a pool's nodes on one InfiniBand network (with AKSInfinibandSupport registered,
    Azure/aks-rdma-infiniband "Prerequisites"); an InfiniBand fabric across availability zones is not
    documented, so the pool stays in the site's first zone."""
    h100 = only(prod, "azure-native:containerservice:AgentPool", "h100").inputs
    t4 = only(prod, "azure-native:containerservice:AgentPool", "t4").inputs
    assert h100["availabilityZones"] == ["1"]
    assert t4["availabilityZones"] == ["1", "2", "3"]


def test_the_network_operator_gives_infiniband_pools_their_rdma_device_plugin(prod: Plan) -> None:
    """Microsoft's recipe for RDMA over InfiniBand on AKS (Azure/aks-rdma-infiniband: the NVIDIA Network
    Operator chart and a NicClusterPolicy with the DOCA driver and an RDMA device plugin). The policy must
    validate against the CRD of the pinned chart, reach only the InfiniBand pools, and tolerate their GPU
    taint, or the plugin never runs there and `rdma/shared_ib` never appears."""
    import jsonschema

    crd = yaml.safe_load((NETWORK_OPERATOR / "mellanox.com_nicclusterpolicies.yaml").read_text())
    [version] = [v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1"]
    policy = only(prod, "kubernetes:mellanox.com/v1alpha1:NicClusterPolicy").inputs
    spec = policy["spec"]
    jsonschema.validate(spec, version["schema"]["openAPIV3Schema"]["properties"]["spec"])
    terms = spec["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [{"matchExpressions": [{"key": "lepton.ai/pool", "operator": "In", "values": ["h100"]}]}]
    gpu_taint = {"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"}
    assert gpu_taint in spec["tolerations"]
    plugin = json.loads(spec["rdmaSharedDevicePlugin"]["config"])["configList"][0]
    assert plugin["resourceName"] == "shared_ib"
    assert plugin["selectors"] == {"vendors": ["15b3"], "linkTypes": ["infiniband"]}
    namespace = only(prod, "kubernetes:core/v1:Namespace", "network-operator").inputs["metadata"]
    assert namespace["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"


def test_the_network_operator_chart_is_pinned_and_every_value_is_a_chart_key(prod: Plan) -> None:
    release = only(prod, "kubernetes:helm.sh/v3:Release", "network-operator").inputs
    chart = yaml.safe_load((NETWORK_OPERATOR / "values.yaml").read_text())
    assert (release["chart"], release["version"]) == ("network-operator", "26.4.0")
    # The GPU Operator runs node-feature-discovery already; a second one would fight it.
    assert release["values"]["nfd"] == {"enabled": False, "deployNodeFeatureRules": False}
    for path in key_paths(release["values"]):
        node: Any = chart
        for key in path:
            assert isinstance(node, Mapping) and key in node, f"{'.'.join(path)} is not a chart value"
            node = node[key]


def test_only_a_site_with_an_infiniband_pool_runs_the_network_operator() -> None:
    plan = whole_plan("multicloud")
    assert plan.of_type("kubernetes:mellanox.com/v1alpha1:NicClusterPolicy") == []


def test_an_infiniband_pool_offers_its_fabric_to_multi_node_training() -> None:
    """A pod on the fabric asks for the RDMA resource; pools without InfiniBand offer none, so their jobs
    are warned about (blueprint advice). No capability: tests/workloads/test_train_memlock.py says why."""
    from lepton_infra.blueprint import PlatformSpec
    from lepton_infra.catalog import Cloud
    from lepton_infra.components.azure.site import gpu_placements
    from lepton_infra.components.site_kit import gpu_pool_plans

    spec = PlatformSpec.model_validate(stack_config("azure-prod"))
    h100, t4 = gpu_placements(gpu_pool_plans(Cloud.AZURE, spec.sites[0]))  # type: ignore[arg-type]
    assert h100.fabric is not None
    assert h100.fabric.resources == {"rdma/shared_ib": 1}
    assert h100.fabric.env["NCCL_IB_DISABLE"] == "0"
    assert t4.fabric is None


@pytest.mark.parametrize("size", ["Standard_NC80adis_H100_v5", "Standard_NC96ads_A100_v4"])
def test_infiniband_on_a_size_without_it_is_refused(size: str) -> None:
    from plan_helpers import spec_issues

    config = copy.deepcopy(stack_config("azure-prod"))
    pool = config["sites"][0]["gpu_pools"][0]
    pool["instance_type"] = size
    pool["accelerator"] = "H100" if "H100" in size else "A100-80GB"
    config["workloads"] = []
    issues = dict(spec_issues(config))
    assert f"{size} has no InfiniBand" in issues["gpu_pools[0].infiniband"]


def test_multi_node_training_on_the_infiniband_pool_gets_no_fabric_warning() -> None:
    """The azure-prod pretraining job (2 nodes of 8 H100) runs on the InfiniBand pool: no TCP advice, only
    the pool's node-level memlock step. Without `infiniband: true` on that pool, the plan warns that its
    gradients cross TCP."""
    from lepton_infra.blueprint import PlatformSpec

    advice = pytest.importorskip("lepton_infra.blueprint.advice")  # the AWS lane's plan-time advice
    config = copy.deepcopy(stack_config("azure-prod"))
    assert [path for path, _ in advice.advice(PlatformSpec.model_validate(config))] == [
        "sites[0].gpu_pools[0].infiniband"
    ]
    config["sites"][0]["gpu_pools"][0]["infiniband"] = False
    [(path, sentence)] = advice.advice(PlatformSpec.model_validate(config))
    assert path == "workloads[0].nodes"
    assert "infiniband: true" in sentence
