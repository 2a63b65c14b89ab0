"""The Azure site: every component of one AKS site composed, and the facts it hands upward."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

import pulumi
from pulumi_azure_native import authorization

from lepton_infra.blueprint import PlatformSpec
from lepton_infra.blueprint.site_azure import AzureSiteSpec
from lepton_infra.catalog import Cloud, partition_of
from lepton_infra.components.azure.budget import AzureSiteBudget, AzureSiteBudgetArgs
from lepton_infra.components.azure.cluster import AzureAksCluster, AzureAksClusterArgs
from lepton_infra.components.azure.defender import AzureDefenderForContainers, AzureDefenderForContainersArgs
from lepton_infra.components.azure.disk_encryption import AzureDiskEncryptionSet, AzureDiskEncryptionSetArgs
from lepton_infra.components.azure.gpu_operator import AKS_GPU_OPERATOR_VALUES
from lepton_infra.components.azure.identity import AzureWorkloadIdentity, AzureWorkloadIdentityArgs, RoleGrant
from lepton_infra.components.azure.infiniband import INFINIBAND_FABRIC, fabric_services
from lepton_infra.components.azure.keys import AzureVaultKey, AzureVaultKeyArgs
from lepton_infra.components.azure.network import AzureNetwork, AzureNetworkArgs
from lepton_infra.components.azure.node_pool import (
    SPOT_TAINT,
    AzureGpuNodePool,
    AzureGpuNodePoolArgs,
    AzureNodePoolArgs,
    Taint,
)
from lepton_infra.components.azure.private_link import (
    AzurePrivateEndpoint,
    AzurePrivateEndpointArgs,
    PrivateLinkService,
)
from lepton_infra.components.azure.provider import azure_provider
from lepton_infra.components.azure.registry import AzureContainerRegistry, AzureContainerRegistryArgs
from lepton_infra.components.azure.roles import BuiltInRole
from lepton_infra.components.azure.storage import AzureArtifactStorage, AzureArtifactStorageArgs
from lepton_infra.components.gpu_nodes import (
    GPU_TAINT_EFFECT,
    GPU_TAINT_KEY,
    GPU_TAINT_VALUE,
    POOL_LABEL,
    SYSTEM_POOL_NAME,
)
from lepton_infra.components.handle import (
    ClusterAddons,
    GpuStack,
    NodePlacement,
    ServiceAccountBinding,
    Toleration,
)
from lepton_infra.components.site_kit import (
    BuiltSite,
    GpuPoolPlan,
    gpu_pool_plans,
    managed_site_builder,
)

CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id"
# The workload identity webhook injects tokens only into pods that carry this label.
USE_WORKLOAD_IDENTITY_LABEL = "azure.workload.identity/use"
SPOT_TOLERATION = Toleration(
    key=SPOT_TAINT.key, operator="Equal", value=SPOT_TAINT.value, effect=SPOT_TAINT.effect
)


def gpu_placements(plans: Sequence[GpuPoolPlan]) -> tuple[NodePlacement, ...]:
    """How pods land on each GPU pool: spot pools' pods tolerate AKS's spot taint, and an InfiniBand pool
    offers its fabric to multi-node training."""
    return tuple(
        dataclasses.replace(
            plan.placement(*((SPOT_TOLERATION,) if plan.pool.spot else ())),
            fabric=INFINIBAND_FABRIC if plan.pool.fabric else None,
        )
        for plan in plans
    )


class AzureSite(pulumi.ComponentResource):
    """One AKS site: network, vault and key, disk encryption set, registry, artifact storage (each private
    behind an endpoint in the VNet), cluster, GPU pools, where asked the subscription's Defender for
    Containers plan, and its Kubernetes layer's facts, all through one explicit azure-native provider for
    the site's region."""

    built: BuiltSite

    def __init__(
        self,
        name: str,
        site: AzureSiteSpec,
        platform: PlatformSpec,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("lepton:azure:Site", name, None, opts)
        tags = platform.site_tags(site.name)
        provider = azure_provider(f"{name}-azure", site.region, self)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        client = authorization.get_client_config_output(
            opts=pulumi.InvokeOutputOptions(parent=self, provider=provider)
        )
        location = site.region

        budget = platform.budget_for(site.name)
        if budget is not None:
            AzureSiteBudget(
                f"{name}-cost",
                AzureSiteBudgetArgs(site.name, budget, subscription_id=client.subscription_id),
                opts=child,
            )
        if site.defender_for_containers:  # at most one site per stack: the plan is the subscription's
            AzureDefenderForContainers(
                f"{name}-defender",
                AzureDefenderForContainersArgs(subscription_id=client.subscription_id),
                opts=child,
            )
        network = AzureNetwork(
            f"{name}-network",
            AzureNetworkArgs(cidr=str(site.network.cidr), location=location, zones=site.zones, tags=tags),
            opts=child,
        )
        group = network.resource_group_name
        key = AzureVaultKey(
            f"{name}-kv",
            AzureVaultKeyArgs(
                resource_group_name=group,
                location=location,
                tenant_id=client.tenant_id,
                rotation_days=site.key_rotation_days,
                expiry_days=site.key_expiry_days,
                protect=site.protect_stateful,
                tags=tags,
            ),
            opts=child,
        )
        disks = AzureDiskEncryptionSet(
            f"{name}-disks",
            AzureDiskEncryptionSetArgs(
                resource_group_name=group,
                location=location,
                subscription_id=client.subscription_id,
                vault_id=key.vault_id,
                key_id=key.key_id,
                key_uri=key.key_uri,
                tags=tags,
            ),
            opts=child,
        )
        registry = AzureContainerRegistry(
            f"{name}-registry",
            AzureContainerRegistryArgs(
                resource_group_name=group,
                location=location,
                subscription_id=client.subscription_id,
                key_id=key.key_id,
                key_uri=key.key_uri,
                zone_redundant=bool(site.zones),
                role_propagation_seconds=site.role_propagation_wait_seconds,
                protect=site.protect_stateful,
                tags=tags,
            ),
            opts=child,
        )
        artifacts = AzureArtifactStorage(
            f"{name}-artifacts",
            AzureArtifactStorageArgs(
                resource_group_name=group,
                location=location,
                subscription_id=client.subscription_id,
                key_id=key.key_id,
                vault_uri=key.vault_uri,
                key_name=key.key_name,
                role_propagation_seconds=site.role_propagation_wait_seconds,
                protect=site.protect_stateful,
                tags=tags,
            ),
            opts=child,
        )
        for suffix, target, service in (
            ("vault", key.vault_id, PrivateLinkService.VAULT),
            ("registry", registry.registry_id, PrivateLinkService.REGISTRY),
            ("blob", artifacts.account_id, PrivateLinkService.BLOB),
        ):
            AzurePrivateEndpoint(
                f"{name}-{suffix}-link",
                AzurePrivateEndpointArgs(
                    resource_group_name=group,
                    location=location,
                    vnet_id=network.vnet_id,
                    subnet_id=network.endpoint_subnet_id,
                    target_id=target,
                    service=service,
                    partition=partition_of(Cloud.AZURE, location),
                    tags=tags,
                ),
                opts=child,
            )

        def pool(
            vm_size: str,
            min_nodes: int,
            max_nodes: int,
            disk_gib: int,
            labels: dict[str, str],
            *,
            gpu: bool = False,
            spot: bool = False,
            spot_max_price: float | None = None,
            taints: tuple[Taint, ...] = (),
            zones: tuple[str, ...] = site.zones,
        ) -> AzureNodePoolArgs:
            return AzureNodePoolArgs(
                vm_size=vm_size,
                min_nodes=min_nodes,
                max_nodes=max_nodes,
                disk_gib=disk_gib,
                labels=labels,
                gpu=gpu,
                spot=spot,
                spot_max_price=spot_max_price,
                taints=taints,
                kubernetes_version=site.kubernetes_version,
                subnet_id=network.node_subnet_id,
                zones=zones,
                encryption_at_host=site.encryption_at_host,
                tags=tags,
            )

        system = site.system_pool
        cluster = AzureAksCluster(
            f"{name}-cluster",
            AzureAksClusterArgs(
                cluster_name=name,
                resource_group_name=group,
                location=location,
                subscription_id=client.subscription_id,
                tenant_id=client.tenant_id,
                kubernetes_version=site.kubernetes_version,
                node_subnet_id=network.node_subnet_id,
                api_server_subnet_id=network.api_server_subnet_id,
                vault_id=key.vault_id,
                key_id=key.key_id,
                key_uri_with_version=key.key_uri_with_version,
                disk_encryption_set_id=disks.des_id,
                prerequisite_grants=[disks.key_grant],
                role_propagation_seconds=site.role_propagation_wait_seconds,
                admin_group_object_ids=site.admin_group_object_ids,
                system_pool=pool(
                    system.instance_type,
                    system.min_nodes,
                    system.max_nodes,
                    system.disk_gib,
                    {POOL_LABEL: SYSTEM_POOL_NAME},
                ),
                registry_ids=[registry.registry_id],
                api_allowlist=[str(c) for c in site.network.api_allowlist],
                network_policy=site.network_policy,
                pod_cidr=str(site.pod_cidr),
                service_cidr=str(site.service_cidr),
                upgrade_channel=site.auto_upgrade_channel,
                sku_tier=site.sku_tier,
                log_retention_days=site.log_retention_days,
                tags=tags,
            ),
            opts=child,
        )

        gpu_pools = gpu_pool_plans(Cloud.AZURE, site)
        for plan in gpu_pools:
            spot = plan.pool.spot
            AzureGpuNodePool(
                f"{name}-{plan.pool.name}",
                AzureGpuNodePoolArgs(
                    resource_group_name=group,
                    cluster_name=cluster.cluster_name,
                    pool_name=plan.pool.name,
                    pool=pool(
                        plan.offering.instance_type,
                        plan.pool.min_nodes,
                        plan.pool.max_nodes,
                        plan.pool.disk_gib,
                        plan.labels,
                        gpu=True,
                        spot=spot,
                        spot_max_price=site.spot_max_price_usd_per_hour if spot else None,
                        taints=(Taint(GPU_TAINT_KEY, GPU_TAINT_VALUE, GPU_TAINT_EFFECT),),
                        # One InfiniBand fabric per pool, in one zone (``infiniband``).
                        zones=site.zones[:1] if plan.pool.fabric else site.zones,
                    ),
                ),
                opts=child,
            )

        placements = gpu_placements(gpu_pools)

        @functools.cache  # one identity per service account, however often the Kubernetes layer asks
        def bind_service_account(namespace: str, service_account: str) -> ServiceAccountBinding:
            identity = AzureWorkloadIdentity(
                f"{name}-{namespace}-{service_account}",
                AzureWorkloadIdentityArgs(
                    resource_group_name=group,
                    location=location,
                    subscription_id=client.subscription_id,
                    oidc_issuer_url=cluster.oidc_issuer_url,
                    namespace=namespace,
                    service_account=service_account,
                    # Read and write artifacts in the one container; images are pulled by the kubelet's
                    # identity, and the storage key is used by the storage service, not by pods.
                    grants=[RoleGrant(BuiltInRole.STORAGE_BLOB_DATA_CONTRIBUTOR, artifacts.container_id)],
                    tags=tags,
                ),
                opts=child,
            )
            return ServiceAccountBinding(
                annotations={CLIENT_ID_ANNOTATION: identity.client_id},
                pod_labels={USE_WORKLOAD_IDENTITY_LABEL: "true"},
            )

        self.built = BuiltSite(
            site=site.name,
            kubeconfig=cluster.kubeconfig,
            registry=registry.login_server,
            artifact_bucket_uri=pulumi.Output.from_input(artifacts.fsspec_uri),
            # adlfs signs in through azure-identity (the pod's workload identity) only when not anonymous.
            artifact_env={
                "AZURE_STORAGE_ACCOUNT_NAME": artifacts.account_name,
                "AZURE_STORAGE_ANON": "false",
            },
            bind_service_account=bind_service_account,
            gpu_pools=placements,
            parent=self,
            # AKS GPU node images bring the NVIDIA driver and container toolkit (``gpu_operator``).
            addons=ClusterAddons(
                gpu_stack=GpuStack.OPERATOR,
                gpu_operator_values=AKS_GPU_OPERATOR_VALUES,
                services=fabric_services(placements),
            ),
        )
        self.register_outputs(
            {
                "kubeconfig": cluster.kubeconfig,
                "registry": registry.login_server,
                "artifact_bucket": artifacts.uri,
            }
        )


build_site = managed_site_builder(AzureSite)
