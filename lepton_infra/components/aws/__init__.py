"""AWS components: network, KMS key, ECR, S3 artifacts, IAM/IRSA, EKS cluster and node groups.

Each component can be imported alone into another Pulumi project; ``site.build_site`` composes them.
"""

from lepton_infra.components.aws.cluster import EksCluster, EksClusterArgs
from lepton_infra.components.aws.identity import WorkloadRole, WorkloadRoleArgs
from lepton_infra.components.aws.keys import KmsKey, KmsKeyArgs
from lepton_infra.components.aws.network import Network, NetworkArgs
from lepton_infra.components.aws.node_group import ManagedNodeGroup, ManagedNodeGroupArgs
from lepton_infra.components.aws.registry import EcrRepository, EcrRepositoryArgs
from lepton_infra.components.aws.storage import ArtifactBucket, ArtifactBucketArgs

__all__ = [
    "ArtifactBucket",
    "ArtifactBucketArgs",
    "EcrRepository",
    "EcrRepositoryArgs",
    "EksCluster",
    "EksClusterArgs",
    "KmsKey",
    "KmsKeyArgs",
    "ManagedNodeGroup",
    "ManagedNodeGroupArgs",
    "Network",
    "NetworkArgs",
    "WorkloadRole",
    "WorkloadRoleArgs",
]
