"""Azure components: network, Key Vault key, disk encryption set, ACR, artifact storage, private endpoints,
workload identities, AKS cluster and GPU node pools.

Each component can be imported alone into another Pulumi project; ``site.build_site`` composes them.
Modules import only the azure-native submodules they use: the whole package is slow to import.
"""

from lepton_infra.components.azure.cluster import AksCluster, AksClusterArgs
from lepton_infra.components.azure.disk_encryption import DiskEncryptionSet, DiskEncryptionSetArgs
from lepton_infra.components.azure.identity import RoleGrant, WorkloadIdentity, WorkloadIdentityArgs
from lepton_infra.components.azure.keys import VaultKey, VaultKeyArgs
from lepton_infra.components.azure.network import Network, NetworkArgs
from lepton_infra.components.azure.node_pool import GpuNodePool, GpuNodePoolArgs, NodePoolArgs
from lepton_infra.components.azure.private_link import (
    PrivateEndpoint,
    PrivateEndpointArgs,
    PrivateLinkService,
)
from lepton_infra.components.azure.registry import ContainerRegistry, ContainerRegistryArgs
from lepton_infra.components.azure.storage import ArtifactStorage, ArtifactStorageArgs

__all__ = [
    "AksCluster",
    "AksClusterArgs",
    "ArtifactStorage",
    "ArtifactStorageArgs",
    "ContainerRegistry",
    "ContainerRegistryArgs",
    "DiskEncryptionSet",
    "DiskEncryptionSetArgs",
    "GpuNodePool",
    "GpuNodePoolArgs",
    "Network",
    "NetworkArgs",
    "NodePoolArgs",
    "PrivateEndpoint",
    "PrivateEndpointArgs",
    "PrivateLinkService",
    "RoleGrant",
    "VaultKey",
    "VaultKeyArgs",
    "WorkloadIdentity",
    "WorkloadIdentityArgs",
]
