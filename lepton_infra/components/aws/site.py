"""The AWS site: every component of one EKS site composed, and the facts it hands upward."""

from __future__ import annotations

import functools
from typing import Any

import pulumi
import pulumi_aws as aws

from lepton_infra.blueprint import AwsSiteSpec, PlatformSpec
from lepton_infra.blueprint.deployment import private_api_sources
from lepton_infra.catalog import Cloud
from lepton_infra.components.aws.api_access import private_api_access
from lepton_infra.components.aws.cluster import AwsEksCluster, AwsEksClusterArgs
from lepton_infra.components.aws.identity import AwsWorkloadRole, AwsWorkloadRoleArgs
from lepton_infra.components.aws.keys import AwsKmsKey, AwsKmsKeyArgs
from lepton_infra.components.aws.network import AwsNetwork, AwsNetworkArgs
from lepton_infra.components.aws.node_group import (
    GPU_AMI_TYPE,
    AwsManagedNodeGroup,
    AwsManagedNodeGroupArgs,
    NodeTaint,
)
from lepton_infra.components.aws.provider import aws_provider
from lepton_infra.components.aws.registry import AwsEcrRepository, AwsEcrRepositoryArgs
from lepton_infra.components.aws.storage import AwsArtifactBucket, AwsArtifactBucketArgs
from lepton_infra.components.gpu_nodes import GPU_TAINT_KEY, GPU_TAINT_VALUE, POOL_LABEL, SYSTEM_POOL_NAME
from lepton_infra.components.handle import ServiceAccountBinding
from lepton_infra.components.site_kit import BuiltSite, gpu_pool_plans, managed_site_builder

IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"


class AwsSite(pulumi.ComponentResource):
    """One EKS site: network, key, registry, artifact bucket, cluster, node pools, and its Kubernetes
    layer's facts, all through one explicit AWS provider for the site's region."""

    built: BuiltSite

    def __init__(
        self, name: str, site: AwsSiteSpec, platform: PlatformSpec, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("lepton:aws:Site", name, None, opts)
        tags = platform.site_tags(site.name)
        provider = aws_provider(f"{name}-aws", site.region, tags, self)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        cluster_name = name

        key = AwsKmsKey(
            f"{name}-kms",
            AwsKmsKeyArgs(
                description=f"lepton {name}: EKS secrets, node volumes, images, artifacts, logs",
                alias=name,
                protect=site.protect_stateful,
                tags=tags,
            ),
            opts=child,
        )
        network = AwsNetwork(
            f"{name}-network",
            AwsNetworkArgs(
                cidr=str(site.network.cidr),
                zone_count=site.availability_zones,
                cluster_name=cluster_name,
                nat_gateway_per_zone=site.nat_gateway_per_zone,
                flow_log_kms_key_arn=key.arn,
                tags=tags,
            ),
            opts=child,
        )
        repositories = [
            AwsEcrRepository(
                f"{name}-{repo}",
                AwsEcrRepositoryArgs(
                    kms_key_arn=key.arn,
                    repository_name=f"{platform.name}/{repo}",
                    protect=site.protect_stateful,
                    tags=tags,
                ),
                opts=child,
            )
            for repo in site.repositories
        ]
        bucket = AwsArtifactBucket(
            f"{name}-artifacts",
            AwsArtifactBucketArgs(kms_key_arn=key.arn, protect=site.protect_stateful, tags=tags),
            opts=child,
        )
        cluster = AwsEksCluster(
            f"{name}-cluster",
            AwsEksClusterArgs(
                cluster_name=cluster_name,
                kubernetes_version=site.kubernetes_version,
                subnet_ids=network.private_subnet_ids,
                kms_key_arn=key.arn,
                api_allowlist=[str(c) for c in site.network.api_allowlist],
                admin_role_arns=list(site.admin_role_arns),
                deletion_protection=site.protect_stateful,
                tags=tags,
            ),
            opts=child,
        )
        # The runner of the Kubernetes layer reaches the private endpoint through the cluster security group.
        private_api_access(
            f"{name}-cluster",
            security_group_id=cluster.cluster_security_group_id,
            cidrs=[str(c) for c in private_api_sources(site.kubernetes_runner, site.network.cidr)],
            tags=tags,
            opts=child,
        )

        def node_group(pool_name: str, **pool: Any) -> AwsManagedNodeGroup:
            return AwsManagedNodeGroup(
                f"{name}-{pool_name}",
                AwsManagedNodeGroupArgs(
                    cluster_name=cluster.cluster_name,
                    kubernetes_version=site.kubernetes_version,
                    node_role_arn=cluster.node_role_arn,
                    subnet_ids=network.private_subnet_ids,
                    kms_key_arn=key.arn,
                    tags=tags,
                    **pool,
                ),
                opts=child,
            )

        node_group(
            SYSTEM_POOL_NAME,
            instance_type=site.system_pool.instance_type,
            min_nodes=site.system_pool.min_nodes,
            max_nodes=site.system_pool.max_nodes,
            disk_gib=site.system_pool.disk_gib,
            labels={POOL_LABEL: SYSTEM_POOL_NAME},
        )
        gpu_pools = gpu_pool_plans(Cloud.AWS, site)
        for plan in gpu_pools:
            node_group(
                plan.pool.name,
                instance_type=plan.offering.instance_type,
                ami_type=GPU_AMI_TYPE,
                min_nodes=plan.pool.min_nodes,
                max_nodes=plan.pool.max_nodes,
                spot=plan.pool.spot,
                disk_gib=plan.pool.disk_gib,
                labels=plan.labels,
                taints=[NodeTaint(GPU_TAINT_KEY, GPU_TAINT_VALUE)],
            )

        identity = aws.get_caller_identity_output(
            opts=pulumi.InvokeOutputOptions(parent=self, provider=provider)
        )
        dns_suffix = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self, provider=provider))
        registry = pulumi.Output.concat(
            identity.account_id, ".dkr.ecr.", site.region, ".", dns_suffix.dns_suffix
        )

        @functools.cache  # one role per service account, however often the Kubernetes layer asks
        def bind_service_account(namespace: str, service_account: str) -> ServiceAccountBinding:
            role = AwsWorkloadRole(
                f"{name}-{namespace}-{service_account}",
                AwsWorkloadRoleArgs(
                    oidc_provider_arn=cluster.oidc_provider_arn,
                    oidc_issuer=cluster.oidc_issuer,
                    namespace=namespace,
                    service_account=service_account,
                    bucket_arn=bucket.arn,
                    repository_arns=[r.arn for r in repositories],
                    kms_key_arn=key.arn,
                    tags=tags,
                ),
                opts=child,
            )
            return ServiceAccountBinding(annotations={IRSA_ANNOTATION: role.arn})

        self.built = BuiltSite(
            site=site.name,
            kubeconfig=cluster.kubeconfig,
            registry=registry,
            artifact_bucket_uri=bucket.uri,
            bind_service_account=bind_service_account,
            gpu_pools=tuple(plan.placement() for plan in gpu_pools),
            parent=self,
        )
        self.register_outputs(
            {"kubeconfig": cluster.kubeconfig, "registry": registry, "artifact_bucket": bucket.uri}
        )


build_site = managed_site_builder(AwsSite)
