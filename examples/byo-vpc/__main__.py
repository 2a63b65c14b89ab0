"""An EKS cluster and an image repository in a VPC you already have: two lepton-infra components, no Platform.

The components take plain values and Outputs, so they compose with anything else in your program.
"""

import pulumi
import pulumi_aws as aws

from lepton_infra.components.aws import (
    AwsEcrRepository,
    AwsEcrRepositoryArgs,
    AwsEksCluster,
    AwsEksClusterArgs,
    AwsKmsKey,
    AwsKmsKeyArgs,
    AwsWorkloadRole,
    AwsWorkloadRoleArgs,
)
from lepton_infra.components.aws.addons import BEFORE_NODES, eks_addons

config = pulumi.Config()
cluster_name = config.require("clusterName")
region = pulumi.Config("aws").require("region")
provider = aws.Provider("regional", aws.ProviderArgs(region=region))
opts = pulumi.ResourceOptions(provider=provider)

key = AwsKmsKey(
    f"{cluster_name}-key",
    AwsKmsKeyArgs(description=f"{cluster_name} secrets and images", alias=cluster_name),
    opts=opts,
)
repository = AwsEcrRepository(f"{cluster_name}-images", AwsEcrRepositoryArgs(kms_key_arn=key.arn), opts=opts)
cluster = AwsEksCluster(
    cluster_name,
    AwsEksClusterArgs(
        cluster_name=cluster_name,
        kubernetes_version="1.33",
        subnet_ids=config.require_object("privateSubnetIds"),
        kms_key_arn=key.arn,
    ),
    opts=opts,
)
# The cluster comes without EKS's unmanaged add-ons: the CNI (with NetworkPolicy enforcement) and kube-proxy
# before your node groups; CoreDNS and metrics-server (addons.AFTER_SYSTEM_POOL) once a node group exists.
eks_addons(cluster_name, cluster.cluster_name, "1.33", BEFORE_NODES, opts)
puller = AwsWorkloadRole(
    f"{cluster_name}-ci-puller",
    AwsWorkloadRoleArgs(
        oidc_provider_arn=cluster.oidc_provider_arn,
        oidc_issuer=cluster.oidc_issuer,
        namespace="ci",
        service_account="image-puller",
        repository_arns=[repository.arn],
    ),
    opts=opts,
)

pulumi.export("repository_url", repository.repository_url)
pulumi.export("kubeconfig", cluster.kubeconfig)
pulumi.export("image_puller_role_arn", puller.arn)
