"""Azure components: network, Key Vault key, disk encryption set, ACR, artifact storage, private endpoints,
workload identities, AKS cluster, GPU node pools and the subscription's Defender for Containers plan.

Each component can be imported alone into another Pulumi project; ``site.build_site`` composes them.
Modules import only the azure-native submodules they use: the whole package is slow to import.
"""

from lepton_infra.components.azure.cluster import AzureAksCluster, AzureAksClusterArgs
from lepton_infra.components.azure.defender import AzureDefenderForContainers, AzureDefenderForContainersArgs
from lepton_infra.components.azure.disk_encryption import AzureDiskEncryptionSet, AzureDiskEncryptionSetArgs
from lepton_infra.components.azure.identity import AzureWorkloadIdentity, AzureWorkloadIdentityArgs, RoleGrant
from lepton_infra.components.azure.keys import AzureVaultKey, AzureVaultKeyArgs
from lepton_infra.components.azure.network import AzureNetwork, AzureNetworkArgs
from lepton_infra.components.azure.node_pool import AzureGpuNodePool, AzureGpuNodePoolArgs, AzureNodePoolArgs
from lepton_infra.components.azure.private_link import (
    AzurePrivateEndpoint,
    AzurePrivateEndpointArgs,
    PrivateLinkService,
)
from lepton_infra.components.azure.registry import AzureContainerRegistry, AzureContainerRegistryArgs
from lepton_infra.components.azure.storage import AzureArtifactStorage, AzureArtifactStorageArgs
from lepton_infra.components.renamed import old_names

__all__ = [
    "AzureAksCluster",
    "AzureAksClusterArgs",
    "AzureArtifactStorage",
    "AzureArtifactStorageArgs",
    "AzureContainerRegistry",
    "AzureContainerRegistryArgs",
    "AzureDefenderForContainers",
    "AzureDefenderForContainersArgs",
    "AzureDiskEncryptionSet",
    "AzureDiskEncryptionSetArgs",
    "AzureGpuNodePool",
    "AzureGpuNodePoolArgs",
    "AzureNetwork",
    "AzureNetworkArgs",
    "AzureNodePoolArgs",
    "AzurePrivateEndpoint",
    "AzurePrivateEndpointArgs",
    "AzureVaultKey",
    "AzureVaultKeyArgs",
    "AzureWorkloadIdentity",
    "AzureWorkloadIdentityArgs",
    "PrivateLinkService",
    "RoleGrant",
]

# The names these classes had before every component name became unique across clouds.
__getattr__ = old_names(
    __name__,
    {
        "AksCluster": "AzureAksCluster",
        "AksClusterArgs": "AzureAksClusterArgs",
        "ArtifactStorage": "AzureArtifactStorage",
        "ArtifactStorageArgs": "AzureArtifactStorageArgs",
        "ContainerRegistry": "AzureContainerRegistry",
        "ContainerRegistryArgs": "AzureContainerRegistryArgs",
        "DiskEncryptionSet": "AzureDiskEncryptionSet",
        "DiskEncryptionSetArgs": "AzureDiskEncryptionSetArgs",
        "GpuNodePool": "AzureGpuNodePool",
        "GpuNodePoolArgs": "AzureGpuNodePoolArgs",
        "Network": "AzureNetwork",
        "NetworkArgs": "AzureNetworkArgs",
        "NodePoolArgs": "AzureNodePoolArgs",
        "PrivateEndpoint": "AzurePrivateEndpoint",
        "PrivateEndpointArgs": "AzurePrivateEndpointArgs",
        "VaultKey": "AzureVaultKey",
        "VaultKeyArgs": "AzureVaultKeyArgs",
        "WorkloadIdentity": "AzureWorkloadIdentity",
        "WorkloadIdentityArgs": "AzureWorkloadIdentityArgs",
    },
    globals(),
)
