"""Alibaba Cloud components: network, KMS key, Container Registry EE, OSS artifacts, RAM/RRSA, ACK cluster
and node pools.

Each component can be imported alone into another Pulumi project; ``site.build_site`` composes them.
"""

from lepton_infra.components.alicloud.cluster import AlicloudAckCluster, AlicloudAckClusterArgs
from lepton_infra.components.alicloud.identity import AlicloudWorkloadRole, AlicloudWorkloadRoleArgs
from lepton_infra.components.alicloud.keys import AlicloudKmsKey, AlicloudKmsKeyArgs
from lepton_infra.components.alicloud.network import AlicloudNetwork, AlicloudNetworkArgs
from lepton_infra.components.alicloud.node_pool import AlicloudNodePool, AlicloudNodePoolArgs
from lepton_infra.components.alicloud.registry import AlicloudContainerRegistry, AlicloudContainerRegistryArgs
from lepton_infra.components.alicloud.storage import AlicloudArtifactBucket, AlicloudArtifactBucketArgs
from lepton_infra.components.renamed import old_names

__all__ = [
    "AlicloudAckCluster",
    "AlicloudAckClusterArgs",
    "AlicloudArtifactBucket",
    "AlicloudArtifactBucketArgs",
    "AlicloudContainerRegistry",
    "AlicloudContainerRegistryArgs",
    "AlicloudKmsKey",
    "AlicloudKmsKeyArgs",
    "AlicloudNetwork",
    "AlicloudNetworkArgs",
    "AlicloudNodePool",
    "AlicloudNodePoolArgs",
    "AlicloudWorkloadRole",
    "AlicloudWorkloadRoleArgs",
]

# The names these classes had before every component name became unique across clouds.
__getattr__ = old_names(
    __name__,
    {
        "AckCluster": "AlicloudAckCluster",
        "AckClusterArgs": "AlicloudAckClusterArgs",
        "ArtifactBucket": "AlicloudArtifactBucket",
        "ArtifactBucketArgs": "AlicloudArtifactBucketArgs",
        "ContainerRegistry": "AlicloudContainerRegistry",
        "ContainerRegistryArgs": "AlicloudContainerRegistryArgs",
        "KmsKey": "AlicloudKmsKey",
        "KmsKeyArgs": "AlicloudKmsKeyArgs",
        "Network": "AlicloudNetwork",
        "NetworkArgs": "AlicloudNetworkArgs",
        "NodePool": "AlicloudNodePool",
        "NodePoolArgs": "AlicloudNodePoolArgs",
        "WorkloadRole": "AlicloudWorkloadRole",
        "WorkloadRoleArgs": "AlicloudWorkloadRoleArgs",
    },
    globals(),
)
