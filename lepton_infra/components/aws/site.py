"""The AWS site: every component of one EKS site composed, and the facts it hands upward."""

from __future__ import annotations

import functools

import pulumi
import pulumi_aws as aws

from lepton_infra.blueprint import AwsSiteSpec, PlatformSpec
from lepton_infra.blueprint.deployment import private_api_sources
from lepton_infra.components.aws.api_access import private_api_access
from lepton_infra.components.aws.budget import AwsSiteBudget, AwsSiteBudgetArgs
from lepton_infra.components.aws.cluster import AwsEksCluster, AwsEksClusterArgs
from lepton_infra.components.aws.compute import AwsClusterCompute, AwsClusterComputeArgs
from lepton_infra.components.aws.gpu_operator import AL2023_NVIDIA_OPERATOR_VALUES
from lepton_infra.components.aws.identity import AwsWorkloadRole, AwsWorkloadRoleArgs
from lepton_infra.components.aws.keys import AwsKmsKey, AwsKmsKeyArgs
from lepton_infra.components.aws.network import AwsNetwork, AwsNetworkArgs
from lepton_infra.components.aws.provider import aws_provider
from lepton_infra.components.aws.registry import AwsEcrRepository, AwsEcrRepositoryArgs
from lepton_infra.components.aws.service_linked_roles import AUTOSCALING, SPOT, service_linked_roles
from lepton_infra.components.aws.storage import AwsArtifactBucket, AwsArtifactBucketArgs
from lepton_infra.components.gpu_nodes import SYSTEM_POOL_NAME
from lepton_infra.components.handle import ClusterAddons, GpuStack, ServiceAccountBinding
from lepton_infra.components.site_kit import BuiltSite, managed_site_builder

IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"


class AwsSite(pulumi.ComponentResource):
    """One EKS site: network, key, registry, artifact bucket, cluster with its managed add-ons, the system
    pool, GPU pools that Karpenter grows from zero (with EFA where asked), and its Kubernetes layer's facts,
    all through one explicit AWS provider for the site's region and identity.

    Order, for a first `pulumi up` that works and a destroy that does: the key after the service-linked
    role its policy names (where the site makes it); the cluster and node groups after their roles'
    policies; vpc-cni and kube-proxy before any node; CoreDNS and metrics-server once the system pool runs;
    the Kubernetes layer once the system pool and CoreDNS are there.
    """

    built: BuiltSite

    def __init__(
        self, name: str, site: AwsSiteSpec, platform: PlatformSpec, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("lepton:aws:Site", name, None, opts)
        tags = platform.site_tags(site.name)
        provider = aws_provider(
            f"{name}-aws",
            site.region,
            tags,
            self,
            profile=site.aws_profile,
            assume_role_arn=site.assume_role_arn,
        )
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        cluster_name = name

        linked_roles = (
            service_linked_roles(
                name, [AUTOSCALING, *([SPOT] if any(p.spot for p in site.gpu_pools) else [])], child
            )
            if site.create_service_linked_roles
            else []
        )
        key = AwsKmsKey(
            f"{name}-kms",
            AwsKmsKeyArgs(
                description=f"lepton {name}: EKS secrets, node volumes, images, artifacts, logs",
                alias=name,
                protect=site.protect_stateful,
                depends_on=linked_roles,
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
                aws_profile=site.aws_profile,
                assume_role_arn=site.assume_role_arn,
                tags=tags,
            ),
            opts=child,
        )
        # The runner of the Kubernetes layer reaches the private endpoint through the cluster security group.
        private_api_access(
            f"{name}-cluster",
            security_group_id=cluster.security_group_id,
            cidrs=[str(c) for c in private_api_sources(site.kubernetes_runner, site.network.cidr)],
            tags=tags,
            opts=child,
        )

        compute = AwsClusterCompute(
            f"{name}-compute",
            AwsClusterComputeArgs(
                site=site,
                cluster=cluster,
                cluster_name=cluster_name,
                vpc_id=network.vpc_id,
                private_subnet_ids=network.private_subnet_ids,
                kms_key_arn=key.arn,
                tags=tags,
                system_pool_formerly=f"{name}-{SYSTEM_POOL_NAME}",
            ),
            opts=child,
        )
        budget = platform.budget_for(site.name)
        if budget is not None:
            AwsSiteBudget(f"{name}-cost", AwsSiteBudgetArgs(site.name, budget, tags), opts=child)

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
            # The Kubernetes layer waits for the system pool and CoreDNS, not only the API server.
            ready=compute.ready,
            registry=registry,
            artifact_bucket_uri=bucket.uri,
            bind_service_account=bind_service_account,
            gpu_pools=compute.placements,
            parent=self,
            addons=ClusterAddons(
                gpu_stack=GpuStack.OPERATOR,
                gpu_operator_values=AL2023_NVIDIA_OPERATOR_VALUES,
                services=compute.services,
            ),
        )
        self.register_outputs(
            {"kubeconfig": cluster.kubeconfig, "registry": registry, "artifact_bucket": bucket.uri}
        )


build_site = managed_site_builder(AwsSite)
