"""InfiniBand for AKS pools of ND sizes: the NVIDIA Network Operator, its RDMA device plugin, and what a pod
asks for to use the fabric.

Microsoft's recipe for RDMA over InfiniBand on AKS (Azure/aks-rdma-infiniband, "Network Operator" and
"GPU Drivers"; its configs/ at commit 700dabb4, 2026-07-16) is followed, with two differences that keep it
inside this platform:

- The Network Operator's own node-feature-discovery is off (``nfd.enabled: false``): the GPU Operator
  already runs one, and the NicClusterPolicy selects the InfiniBand pools by their pool label instead of
  ``feature.node.kubernetes.io/pci-15b3.present``, which every node with accelerated networking (a Mellanox
  VF) carries too.
- The RDMA *shared* device plugin (``rdma/shared_ib``): one pod per node gets every HCA of the node, however
  many GPUs it takes, instead of the SR-IOV plugin's one ``rdma/ib`` per NIC.

The nodes keep the driver AKS installs (``gpu_operator``); AKS does not load ``nvidia-peermem`` with it,
so NCCL uses the InfiniBand verbs through host memory, not GPUDirect RDMA (Microsoft's
``nvidia-peermem-reloader`` DaemonSet would add that; it runs privileged with host paths, which this
platform's policies refuse outside an operator's chart). Whether a pool spanning zones keeps one fabric
is not documented: an InfiniBand pool lives in the site's first zone.

The recipe's pods add the ``IPC_LOCK`` capability ("A pod without this will have a low locked memory value
(ulimit -l) of 64"); ours do not, and could not usefully: Pod Security "restricted" refuses it, and for a
non-root container an added capability never becomes effective (kubernetes/kubernetes#56374,
NVIDIA/nvidia-container-toolkit#2037). The locked-memory limit NCCL needs comes from the node's containerd
(``LimitMEMLOCK``), which AKS offers no setting for: the plan advises it (``blueprint.advice``), the
trainer warns when it is too low (``workloads.train.memlock``), and the README's Azure section says how.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from lepton_infra.components.gpu_nodes import POOL_LABEL
from lepton_infra.components.handle import Fabric, NodePlacement, Toleration
from lepton_infra.components.services import ClusterService, CustomObject, HelmChart

NETWORK_OPERATOR_REPO = "https://helm.ngc.nvidia.com/nvidia"
# Pinned as Azure/aks-rdma-infiniband deploys it (chart version as the chart's Chart.yaml writes it).
NETWORK_OPERATOR_VERSION = "26.4.0"
NETWORK_OPERATOR_NAMESPACE = "network-operator"
# The images the AKS recipe's NicClusterPolicy pins (its configs/nicclusterpolicy/ base and shared plugin).
MELLANOX_REPOSITORY = "nvcr.io/nvidia/mellanox"
DOCA_DRIVER_VERSION = "doca3.2.0-25.10-1.2.8.0-2"
RDMA_SHARED_DEVICE_PLUGIN_VERSION = "network-operator-v25.10.0"
RDMA_RESOURCE = "rdma/shared_ib"
_OFED_BLACKLIST = "/host/etc/modprobe.d/blacklist-ofed-modules.conf"
# Pods that may share one node's HCAs (the recipe's figure).
RDMA_PODS_PER_NODE = 63
# The chart's own operator.tolerations (values.yaml at 26.4.0): a list in values replaces the chart's.
_CHART_TOLERATIONS = (
    Toleration(key="node-role.kubernetes.io/master", operator="Equal", value="", effect="NoSchedule"),
    Toleration(key="node-role.kubernetes.io/control-plane", operator="Equal", value="", effect="NoSchedule"),
)

INFINIBAND_FABRIC = Fabric(
    name="infiniband",
    resources={RDMA_RESOURCE: 1},
    # The recipe's NCCL setting (IB allowed; NCCL's default too, stated so an image cannot turn it off).
    env={"NCCL_IB_DISABLE": "0"},
)


def network_operator(pools: Sequence[str], tolerations: Sequence[Toleration]) -> ClusterService:
    """The Network Operator and one NicClusterPolicy: DOCA's InfiniBand driver and the RDMA shared device
    plugin on the nodes of ``pools``, tolerating ``tolerations`` (their taints)."""
    tolerate = [t.to_values() for t in (*_CHART_TOLERATIONS, *tolerations)]
    policy = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": POOL_LABEL, "operator": "In", "values": list(pools)}]}
                ]
            }
        },
        "tolerations": tolerate,
        "ofedDriver": {
            "repository": MELLANOX_REPOSITORY,
            "image": "doca-driver",
            "version": DOCA_DRIVER_VERSION,
            # The recipe's fix for a race where a kernel module fails to load (Mellanox/doca-driver-build#52).
            "env": [
                {
                    "name": "OFED_BLACKLIST_MODULES_FILE",
                    "value": "/host/etc/modprobe.d/blacklist-ofed-modules.conf",
                }
            ],
            "forcePrecompiled": False,
            # Driver upgrades happen only when the version above changes; then one node at a time, drained.
            "upgradePolicy": {
                "autoUpgrade": True,
                "maxParallelUpgrades": 1,
                "drain": {"enable": True, "force": True, "deleteEmptyDir": True, "timeoutSeconds": 300},
            },
            "startupProbe": {"initialDelaySeconds": 10, "periodSeconds": 20},
            "livenessProbe": {"initialDelaySeconds": 30, "periodSeconds": 30},
            "readinessProbe": {"initialDelaySeconds": 10, "periodSeconds": 30},
        },
        "rdmaSharedDevicePlugin": {
            "repository": MELLANOX_REPOSITORY,
            "image": "k8s-rdma-shared-dev-plugin",
            "version": RDMA_SHARED_DEVICE_PLUGIN_VERSION,
            "config": json.dumps(
                {
                    "configList": [
                        {
                            "resourceName": RDMA_RESOURCE.split("/", 1)[1],
                            "rdmaHcaMax": RDMA_PODS_PER_NODE,
                            "selectors": {"vendors": ["15b3"], "linkTypes": ["infiniband"]},
                        }
                    ]
                }
            ),
        },
    }
    return ClusterService(
        name="network-operator",
        namespace=NETWORK_OPERATOR_NAMESPACE,
        chart=HelmChart(
            chart="network-operator",
            version=NETWORK_OPERATOR_VERSION,
            repository=NETWORK_OPERATOR_REPO,
            values={
                "nfd": {"enabled": False, "deployNodeFeatureRules": False},
                "operator": {"tolerations": tolerate},
            },
        ),
        objects=(
            CustomObject(
                api_version="mellanox.com/v1alpha1",
                kind="NicClusterPolicy",
                # The operator acts on the one policy of this name.
                name="nic-cluster-policy",
                spec=policy,
            ),
        ),
        # The driver and device plugin pods load kernel modules and mount host paths (the recipe labels the
        # namespace privileged).
        pod_security="privileged",
    )


def fabric_services(placements: Sequence[NodePlacement]) -> tuple[ClusterService, ...]:
    """The Network Operator for the site's InfiniBand pools, tolerating their taints; none without one."""
    pools = [p for p in placements if p.fabric == INFINIBAND_FABRIC]
    if not pools:
        return ()
    tolerations = list(dict.fromkeys(t for p in pools for t in p.tolerations))
    return (network_operator([p.pool for p in pools], tolerations),)
