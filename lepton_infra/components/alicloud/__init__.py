"""Alibaba Cloud components: network, KMS key, Container Registry EE, OSS artifacts, RAM/RRSA, ACK cluster
and node pools.

Each component can be imported alone into another Pulumi project; ``site.build_site`` composes them.
"""

from lepton_infra.components.alicloud.cluster import AckCluster, AckClusterArgs
from lepton_infra.components.alicloud.identity import WorkloadRole, WorkloadRoleArgs
from lepton_infra.components.alicloud.keys import KmsKey, KmsKeyArgs
from lepton_infra.components.alicloud.network import Network, NetworkArgs
from lepton_infra.components.alicloud.node_pool import NodePool, NodePoolArgs
from lepton_infra.components.alicloud.registry import ContainerRegistry, ContainerRegistryArgs
from lepton_infra.components.alicloud.storage import ArtifactBucket, ArtifactBucketArgs

__all__ = [
    "AckCluster",
    "AckClusterArgs",
    "ArtifactBucket",
    "ArtifactBucketArgs",
    "ContainerRegistry",
    "ContainerRegistryArgs",
    "KmsKey",
    "KmsKeyArgs",
    "Network",
    "NetworkArgs",
    "NodePool",
    "NodePoolArgs",
    "WorkloadRole",
    "WorkloadRoleArgs",
]
