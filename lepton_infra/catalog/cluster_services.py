"""What each cloud's managed Kubernetes provides by itself, and what marks a service a plan installs.

The operability pack decides from a plan's resources whether a cluster has what its workloads rely on:
an autoscaler that grows a pool from zero, a metrics source for the HPA, a network plugin that enforces
NetworkPolicy, a way for nodes to pull from the registry, an operator that loads Prometheus rules. The
facts that decision needs (which cloud builds what in, which add-on or chart provides the rest, which
property switches it on) live here, each with its source, so the rules stay free of cloud trivia.
"""

from __future__ import annotations

from dataclasses import dataclass

from lepton_infra.catalog.types import Cloud


@dataclass(frozen=True)
class Fact:
    """One documented statement a rule relies on, with where it is written."""

    statement: str
    source: str


# --- Cluster types, per cloud ---------------------------------------------------------------------------
CLUSTER_TYPES: dict[str, Cloud] = {
    "aws:eks/cluster:Cluster": Cloud.AWS,
    "azure-native:containerservice:ManagedCluster": Cloud.AZURE,
    "alicloud:cs/managedKubernetes:ManagedKubernetes": Cloud.ALICLOUD,
    "alicloud:cs/kubernetes:Kubernetes": Cloud.ALICLOUD,
}
EKS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
EKS_ADDON = "aws:eks/addon:Addon"
AKS_AGENT_POOL = "azure-native:containerservice:AgentPool"
ACK_NODE_POOL = "alicloud:cs/nodePool:NodePool"
ACK_ADDON = "alicloud:cs/kubernetesAddon:KubernetesAddon"
ACK_AUTOSCALING_CONFIG = "alicloud:cs/autoscalingConfig:AutoscalingConfig"
ASG_TAG = "aws:autoscaling/tag:Tag"
KARPENTER_NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
KARPENTER_EC2_NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"

# --- Growing a pool from zero ---------------------------------------------------------------------------
CLUSTER_AUTOSCALER_CHARTS = frozenset({"cluster-autoscaler"})
CLUSTER_AUTOSCALER_IMAGE = "autoscaling/cluster-autoscaler"
KARPENTER_CHARTS = frozenset({"karpenter"})
# Cluster Autoscaler learns a pool's labels, taints and extended resources at zero nodes from these ASG
# tags; "It is your responsibility to ensure such labels and/or taints are applied via the node's kubelet
# configuration" (kubernetes/autoscaler cluster-autoscaler/cloudprovider/aws/README.md).
CA_NODE_TEMPLATE_LABEL = "k8s.io/cluster-autoscaler/node-template/label/"
CA_NODE_TEMPLATE_TAINT = "k8s.io/cluster-autoscaler/node-template/taint/"
AUTOSCALING: dict[Cloud, Fact] = {
    Cloud.AWS: Fact(
        "EKS managed node groups are Auto Scaling groups: nothing grows them unless a Cluster Autoscaler "
        "(with node-template tags to scale from zero) or Karpenter runs in the cluster",
        "https://github.com/kubernetes/autoscaler/blob/master/cluster-autoscaler/cloudprovider/aws/README.md",
    ),
    Cloud.AZURE: Fact(
        "AKS runs the cluster autoscaler itself for every pool with enableAutoScaling, between minCount "
        "and maxCount",
        "https://learn.microsoft.com/azure/aks/cluster-autoscaler",
    ),
    Cloud.ALICLOUD: Fact(
        "ACK scales a node pool with scaling_config.enable only when the cluster's node autoscaling is "
        "configured (cs.AutoscalingConfig) and Auto Scaling is activated",
        "https://www.alibabacloud.com/help/doc-detail/197717.htm",
    ),
}

# --- Metrics for the HPA ----------------------------------------------------------------------------------
METRICS_SERVER_ADDON = "metrics-server"
METRICS_SERVER_CHARTS = frozenset({"metrics-server"})
BUILT_IN_METRICS_SERVER: dict[Cloud, Fact] = {
    Cloud.AZURE: Fact(
        "Metrics Server is automatically deployed in AKS clusters",
        "https://learn.microsoft.com/azure/aks/concepts-scale",
    ),
    Cloud.ALICLOUD: Fact(
        "By default, HPA supports automatic scaling based on CPU and memory metrics",
        "https://www.alibabacloud.com/help/doc-detail/184519.htm",
    ),
}
EKS_METRICS_SERVER = Fact(
    "EKS installs no metrics-server; it is the community add-on `metrics-server`",
    "https://docs.aws.amazon.com/eks/latest/userguide/community-addons.html",
)
# Charts that serve custom.metrics.k8s.io / external.metrics.k8s.io to the HPA.
CUSTOM_METRICS_ADAPTER_CHARTS = frozenset(
    {"prometheus-adapter", "keda", "ack-alibaba-cloud-metrics-adapter", "kube-metrics-adapter"}
)
CUSTOM_METRICS_API_GROUPS = frozenset({"custom.metrics.k8s.io", "external.metrics.k8s.io"})

# --- NetworkPolicy enforcement ------------------------------------------------------------------------------
EKS_VPC_CNI_ADDON = "vpc-cni"
EKS_NETWORK_POLICY = Fact(
    'The Amazon VPC CNI enforces NetworkPolicy only when its add-on sets enableNetworkPolicy: "true"',
    "https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy-configure.html",
)
# Charts of network plugins that enforce NetworkPolicy wherever they run.
ENFORCING_CNI_CHARTS = frozenset({"cilium", "tigera-operator", "calico"})
AKS_ENFORCING_POLICIES = frozenset({"azure", "calico", "cilium"})
AKS_NETWORK_POLICY = Fact(
    "AKS enforces NetworkPolicy only with a network policy engine: networkProfile.networkPolicy "
    "azure, calico or cilium",
    "https://learn.microsoft.com/azure/aks/use-network-policies",
)
ACK_TERWAY_ADDONS = frozenset({"terway", "terway-eni", "terway-eniip", "terway-controlplane"})
ACK_NETWORK_POLICY = Fact(
    'ACK enforces NetworkPolicy with Terway when the add-on\'s config sets NetworkPolicy to "true"; '
    "Flannel does not enforce it",
    "https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/use-network-policies",
)

# --- Pulling images ---------------------------------------------------------------------------------------
ECR_HOST = r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/"
ACR_HOST = r"^[a-z0-9]+\.azurecr\.(io|cn|us)/"
# CR EE instance endpoints: <instance>-registry[-vpc].<region>.cr.aliyuncs.com.
ACR_EE_HOST = r"^[a-z0-9-]+\.[a-z0-9-]+\.cr\.aliyuncs\.com/"
# AWS managed policies that let a node role pull from ECR.
ECR_PULL_POLICIES = frozenset(
    {
        "AmazonEC2ContainerRegistryReadOnly",
        "AmazonEC2ContainerRegistryPullOnly",
        "AmazonEC2ContainerRegistryPowerUser",
        "AmazonEC2ContainerRegistryFullAccess",
    }
)
ECR_PULL = Fact(
    "EKS nodes pull from ECR with their node IAM role, which needs AmazonEC2ContainerRegistryReadOnly "
    "(or PullOnly)",
    "https://docs.aws.amazon.com/eks/latest/userguide/create-node-role.html",
)
# Azure built-in roles that include Microsoft.ContainerRegistry/registries/pull/read.
ACR_PULL_ROLE_IDS = frozenset(
    {
        "7f951dda-4ed3-4680-a7ca-43fe172d538d",  # AcrPull
        "8311e382-0749-4cb8-b61a-304f252e45ec",  # AcrPush
        "b24988ac-6180-42a0-ab88-20f7382dd24c",  # Contributor
        "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",  # Owner
    }
)
ACR_PULL = Fact(
    "AKS nodes pull from ACR with the cluster's kubelet identity, which needs AcrPull on the registry",
    "https://learn.microsoft.com/azure/aks/cluster-container-registry-integration",
)
ACK_CREDENTIAL_HELPERS = frozenset({"managed-aliyun-acr-credential-helper", "aliyun-acr-credential-helper"})
ACK_PULL = Fact(
    "ACK nodes pull from a Container Registry Enterprise Edition instance without secrets only through "
    "the aliyun-acr-credential-helper add-on; otherwise pods need an imagePullSecret",
    "https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/use-the-aliyun-acr-credential-helper-component-to-pull-images-without-using-a-secret",
)

# --- Prometheus rules -------------------------------------------------------------------------------------
PROMETHEUS_OPERATOR_GROUP = "monitoring.coreos.com"
PROMETHEUS_OPERATOR_CHARTS = frozenset(
    {"kube-prometheus-stack", "prometheus-operator", "prometheus-operator-crds"}
)
PROMETHEUS_OPERATOR = Fact(
    "PrometheusRule and ServiceMonitor are CRDs of the Prometheus Operator: without it the API server "
    "rejects them (no matches for kind) and nothing loads the rules",
    "https://prometheus-operator.dev/docs/getting-started/introduction/",
)

# --- GPU metrics ------------------------------------------------------------------------------------------
# Series named DCGM_FI_* come only from a DCGM exporter: the GPU Operator's (dcgmExporter.enabled, on by
# default) or one installed on its own (NVIDIA's dcgm-exporter chart).
DCGM_SERIES_PREFIX = "DCGM_"
DCGM_EXPORTER_CHARTS = frozenset({"dcgm-exporter"})
DCGM_EXPORTER_IMAGE = "dcgm-exporter"
DCGM_EXPORTER = Fact(
    "DCGM_FI_* series are exported by NVIDIA's DCGM exporter alone; the GPU Operator runs it unless "
    "dcgmExporter.enabled is false",
    "https://docs.nvidia.com/datacenter/cloud-native/gpu-telemetry/latest/dcgm-exporter.html",
)

# --- Fabric for multi-node training ----------------------------------------------------------------------
# Types whose GPU-to-GPU fabric only works within one zone / placement group: EFA (AWS) traffic stays in
# one subnet and cluster placement groups are single-AZ; InfiniBand (Azure ND*r sizes) spans one pool.
FABRIC_TYPES: dict[str, Fact] = {
    **dict.fromkeys(
        ("p5.48xlarge", "p4d.24xlarge", "p4de.24xlarge"),
        Fact(
            "EFA needs the job's nodes in one subnet (one zone), ideally one cluster placement group",
            "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/efa.html",
        ),
    ),
    **dict.fromkeys(
        ("Standard_ND96isr_H100_v5", "Standard_ND96amsr_A100_v4", "Standard_ND96asr_v4"),
        Fact(
            "InfiniBand connects the VMs of one node pool; the pool should stay in one zone",
            "https://github.com/Azure/aks-rdma-infiniband",
        ),
    ),
}

# --- Reaching the API server on the first `pulumi up` ------------------------------------------------------
PRIVATE_ENDPOINT: dict[Cloud, Fact] = {
    Cloud.AWS: Fact(
        "With the public endpoint off, 'Any kubectl commands must come from within the VPC or a connected "
        "network'",
        "https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html",
    ),
    Cloud.AZURE: Fact(
        "A private AKS cluster's API server is reachable only from the cluster's virtual network or a "
        "network connected to it",
        "https://learn.microsoft.com/azure/aks/private-clusters",
    ),
    Cloud.ALICLOUD: Fact(
        "Without an internet-facing SLB the ACK API server has only its intranet endpoint, reachable from "
        "the VPC",
        "https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/control-public-access-to-the-api-server-of-a-cluster",
    ),
}
