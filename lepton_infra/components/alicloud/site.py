"""The Alibaba Cloud site: every component of one ACK site composed, and the facts it hands upward."""

from __future__ import annotations

import functools

import pulumi
import pulumi_alicloud as alicloud

from lepton_infra.blueprint import PlatformSpec
from lepton_infra.blueprint.site_alicloud import AlicloudSiteSpec
from lepton_infra.catalog import Cloud
from lepton_infra.components.alicloud.cluster import AlicloudAckCluster, AlicloudAckClusterArgs
from lepton_infra.components.alicloud.cluster_addons import acr_credential_helper, node_autoscaling
from lepton_infra.components.alicloud.identity import (
    AlicloudWorkloadRole,
    AlicloudWorkloadRoleArgs,
    role_name,
)
from lepton_infra.components.alicloud.keys import AlicloudKmsKey, AlicloudKmsKeyArgs
from lepton_infra.components.alicloud.network import AlicloudNetwork, AlicloudNetworkArgs
from lepton_infra.components.alicloud.node_pool import AlicloudNodePool, AlicloudNodePoolArgs, NodeTaint
from lepton_infra.components.alicloud.provider import alicloud_provider
from lepton_infra.components.alicloud.registry import AlicloudContainerRegistry, AlicloudContainerRegistryArgs
from lepton_infra.components.alicloud.storage import AlicloudArtifactBucket, AlicloudArtifactBucketArgs
from lepton_infra.components.gpu_nodes import (
    GPU_TAINT_EFFECT,
    GPU_TAINT_KEY,
    GPU_TAINT_VALUE,
    POOL_LABEL,
    SYSTEM_POOL_NAME,
)
from lepton_infra.components.handle import ClusterAddons, GpuStack, ServiceAccountBinding
from lepton_infra.components.site_kit import BuiltSite, gpu_pool_plans, managed_site_builder

# ack-pod-identity-webhook mounts the RRSA token into pods whose service account names a role here...
RRSA_ROLE_ANNOTATION = "pod-identity.alibabacloud.com/role-name"
# ...and whose pod (or namespace) opts in with this label; on the pod, it needs no namespace change.
RRSA_INJECTION_LABEL = "pod-identity.alibabacloud.com/injection"


class AlicloudSite(pulumi.ComponentResource):
    """One ACK site: network, key, registry, artifact bucket, cluster, node pools, and its Kubernetes
    layer's facts, all through one explicit Alibaba Cloud provider for the site's region."""

    built: BuiltSite

    def __init__(
        self,
        name: str,
        site: AlicloudSiteSpec,
        platform: PlatformSpec,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("lepton:alicloud:Site", name, None, opts)
        tags = platform.site_tags(site.name)
        provider = alicloud_provider(f"{name}-alicloud", site.region, self)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        account_id = alicloud.get_account_output(
            opts=pulumi.InvokeOutputOptions(parent=self, provider=provider)
        ).id

        network = AlicloudNetwork(
            f"{name}-network",
            AlicloudNetworkArgs(
                cidr=str(site.network.cidr),
                zone_ids=site.zone_ids,
                zone_count=site.availability_zones,
                tags=tags,
            ),
            opts=child,
        )
        key = AlicloudKmsKey(
            f"{name}-kms",
            AlicloudKmsKeyArgs(description=f"lepton {name}: ACK secrets, node disks, artifacts", alias=name,
                       kms_instance_id=site.kms_instance_id, protect=site.protect_stateful, tags=tags),
            opts=child,
        )  # fmt: skip
        registry = AlicloudContainerRegistry(
            f"{name}-registry",
            AlicloudContainerRegistryArgs(
                instance_name=name[:30].rstrip("-"),
                region=site.region,
                namespace=platform.name,
                repositories=site.repositories,
                vpc_id=network.vpc_id,
                vswitch_id=network.node_vswitch_ids.apply(lambda ids: ids[0]),
                edition=site.registry_edition,
                subscription_months=site.registry_subscription_months,
                protect=site.protect_stateful,
                tags=tags,
            ),
            opts=child,
        )
        bucket = AlicloudArtifactBucket(
            f"{name}-artifacts",
            AlicloudArtifactBucketArgs(
                bucket_name=pulumi.Output.concat(f"{name[:40]}-artifacts-", account_id),
                account_id=account_id,
                kms_key_id=key.key_id,
                protect=site.protect_stateful,
                tags=tags,
            ),
            opts=child,
        )
        cluster = AlicloudAckCluster(
            f"{name}-cluster",
            AlicloudAckClusterArgs(
                cluster_name=name,
                region=site.region,
                ack_version=site.ack_version,
                vpc_cidr=str(site.network.cidr),
                node_vswitch_ids=network.node_vswitch_ids,
                pod_vswitch_ids=network.pod_vswitch_ids,
                kms_key_id=key.key_id,
                account_id=account_id,
                log_retention_days=site.control_plane_log_retention_days,
                deletion_protection=site.protect_stateful,
                protect=site.protect_stateful,
                tags=tags,
            ),
            opts=child,
        )

        # Pools autoscale only once the cluster's autoscaler is configured (cluster first, then pools).
        autoscaling = node_autoscaling(f"{name}-autoscaling", cluster.cluster_id, opts=child)
        acr_credential_helper(
            f"{name}-acr-credential-helper",
            cluster_id=cluster.cluster_id,
            instance_id=registry.instance_id,
            registry_host=registry.host,
            region=site.region,
            namespaces=sorted({w.namespace for w in platform.workloads_on(site.name)}) or ["default"],
            opts=child,
        )

        def node_pool(
            pool_name: str,
            *,
            instance_type: str,
            min_nodes: int,
            max_nodes: int,
            disk_gib: int,
            labels: dict[str, str],
            gpu: bool = False,
            spot: bool = False,
        ) -> AlicloudNodePool:
            taints = [NodeTaint(GPU_TAINT_KEY, GPU_TAINT_VALUE, GPU_TAINT_EFFECT)] if gpu else []
            return AlicloudNodePool(
                f"{name}-{pool_name}",
                AlicloudNodePoolArgs(cluster_id=cluster.cluster_id, vswitch_ids=network.node_vswitch_ids,
                             instance_type=instance_type, min_nodes=min_nodes, max_nodes=max_nodes,
                             kms_key_id=key.key_id, gpu=gpu, spot=spot, disk_gib=disk_gib, labels=labels,
                             taints=taints, after=[autoscaling], tags=tags),
                opts=child,
            )  # fmt: skip

        system = site.system_pool
        node_pool(
            SYSTEM_POOL_NAME,
            instance_type=system.instance_type,
            min_nodes=system.min_nodes,
            max_nodes=system.max_nodes,
            disk_gib=system.disk_gib,
            labels={POOL_LABEL: SYSTEM_POOL_NAME},
        )
        gpu_pools = gpu_pool_plans(Cloud.ALICLOUD, site)
        for plan in gpu_pools:
            node_pool(
                plan.pool.name,
                instance_type=plan.offering.instance_type,
                min_nodes=plan.pool.min_nodes,
                max_nodes=plan.pool.max_nodes,
                disk_gib=plan.pool.disk_gib,
                labels=plan.labels,
                gpu=True,
                spot=plan.pool.spot,
            )

        @functools.cache  # one role per service account, however often the Kubernetes layer asks
        def bind_service_account(namespace: str, service_account: str) -> ServiceAccountBinding:
            role = AlicloudWorkloadRole(
                f"{name}-{namespace}-{service_account}",
                AlicloudWorkloadRoleArgs(
                    role_name=role_name(name, namespace, service_account),
                    oidc_provider_arn=cluster.oidc_provider_arn,
                    oidc_issuer_url=cluster.oidc_issuer_url,
                    namespace=namespace,
                    service_account=service_account,
                    account_id=account_id,
                    region=site.region,
                    bucket_name=bucket.bucket_name,
                    registry_instance_id=registry.instance_id,
                    repositories=[f"{platform.name}/{repo}" for repo in site.repositories],
                    kms_key_arn=key.arn,
                    tags=tags,
                ),
                opts=child,
            )
            return ServiceAccountBinding(
                annotations={RRSA_ROLE_ANNOTATION: role.role_name}, pod_labels={RRSA_INJECTION_LABEL: "on"}
            )

        self.built = BuiltSite(
            site=site.name,
            kubeconfig=cluster.kubeconfig,
            registry=registry.host,
            artifact_bucket_uri=bucket.uri,
            artifact_env={"OSS_ENDPOINT": bucket.endpoint},
            bind_service_account=bind_service_account,
            gpu_pools=tuple(plan.placement() for plan in gpu_pools),
            parent=self,
            # ACK installs the NVIDIA driver, container toolkit and device plugin on GPU nodes itself.
            addons=ClusterAddons(gpu_stack=GpuStack.PREINSTALLED),
        )
        self.register_outputs(
            {"kubeconfig": cluster.kubeconfig, "registry": registry.host, "artifact_bucket": bucket.uri}
        )


build_site = managed_site_builder(AlicloudSite)
