"""AWS components: network, KMS key, ECR, S3 artifacts, IAM/IRSA, EKS cluster and node groups, Karpenter's
AWS side, the EFA security group.

Each component can be imported alone into another Pulumi project; ``site.build_site`` composes them.
"""

from lepton_infra.components.aws.cluster import AwsEksCluster, AwsEksClusterArgs
from lepton_infra.components.aws.efa import AwsEfaSecurityGroup, AwsEfaSecurityGroupArgs
from lepton_infra.components.aws.identity import AwsWorkloadRole, AwsWorkloadRoleArgs
from lepton_infra.components.aws.karpenter import AwsKarpenter, AwsKarpenterArgs
from lepton_infra.components.aws.keys import AwsKmsKey, AwsKmsKeyArgs
from lepton_infra.components.aws.network import AwsNetwork, AwsNetworkArgs
from lepton_infra.components.aws.node_group import AwsManagedNodeGroup, AwsManagedNodeGroupArgs
from lepton_infra.components.aws.registry import AwsEcrRepository, AwsEcrRepositoryArgs
from lepton_infra.components.aws.storage import AwsArtifactBucket, AwsArtifactBucketArgs
from lepton_infra.components.renamed import old_names

__all__ = [
    "AwsArtifactBucket",
    "AwsArtifactBucketArgs",
    "AwsEcrRepository",
    "AwsEcrRepositoryArgs",
    "AwsEfaSecurityGroup",
    "AwsEfaSecurityGroupArgs",
    "AwsEksCluster",
    "AwsEksClusterArgs",
    "AwsKarpenter",
    "AwsKarpenterArgs",
    "AwsKmsKey",
    "AwsKmsKeyArgs",
    "AwsManagedNodeGroup",
    "AwsManagedNodeGroupArgs",
    "AwsNetwork",
    "AwsNetworkArgs",
    "AwsWorkloadRole",
    "AwsWorkloadRoleArgs",
]

# The names these classes had before every component name became unique across clouds.
__getattr__ = old_names(
    __name__,
    {
        "ArtifactBucket": "AwsArtifactBucket",
        "ArtifactBucketArgs": "AwsArtifactBucketArgs",
        "EcrRepository": "AwsEcrRepository",
        "EcrRepositoryArgs": "AwsEcrRepositoryArgs",
        "EksCluster": "AwsEksCluster",
        "EksClusterArgs": "AwsEksClusterArgs",
        "KmsKey": "AwsKmsKey",
        "KmsKeyArgs": "AwsKmsKeyArgs",
        "ManagedNodeGroup": "AwsManagedNodeGroup",
        "ManagedNodeGroupArgs": "AwsManagedNodeGroupArgs",
        "Network": "AwsNetwork",
        "NetworkArgs": "AwsNetworkArgs",
        "WorkloadRole": "AwsWorkloadRole",
        "WorkloadRoleArgs": "AwsWorkloadRoleArgs",
    },
    globals(),
)
