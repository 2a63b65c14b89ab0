// An EKS GPU site and a training job from lepton-infra's components, through its multi-language package.
// `pulumi package add ../../provider` generates the SDK imported below (into sdks/lepton-infra). Unverified
// here: no Pulumi CLI to generate the SDK; tests/package/test_examples.py checks the classes and argument
// keys against the package schema.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as lepton from "@pulumi/lepton-infra";

const config = new pulumi.Config();
const region = config.require("region");
const name = "lepton-eks";

// One explicit provider for the region; each component hands it to every resource it creates.
const usw2 = new aws.Provider("usw2", { region, defaultTags: { tags: { team: "ml-platform" } } });
const opts = { providers: [usw2] };

const key = new lepton.AwsKmsKey("site", {
    description: `${name}: EKS secrets, node volumes, images, artifacts, logs`,
    alias: name,
}, opts);

const network = new lepton.AwsNetwork("site", {
    cidr: "10.20.0.0/16",
    zoneCount: 2,
    clusterName: name,
    flowLogKmsKeyArn: key.arn,
}, opts);

const images = new lepton.AwsEcrRepository("train", { kmsKeyArn: key.arn, repositoryName: "lepton/train" }, opts);
const artifacts = new lepton.AwsArtifactBucket("artifacts", { kmsKeyArn: key.arn }, opts);

const cluster = new lepton.AwsEksCluster("site", {
    clusterName: name,
    kubernetesVersion: "1.33",
    subnetIds: network.privateSubnetIds,
    kmsKeyArn: key.arn,
    adminRoleArns: config.requireObject<string[]>("adminRoleArns"),
}, opts);

// EKS installs no add-ons of its own (bootstrapSelfManagedAddons is off): a node needs vpc-cni (which then enforces
// NetworkPolicy) and kube-proxy before it is Ready; CoreDNS and metrics-server need a node to run on.
const beforeNodes = new lepton.AwsEksAddons("site-before-nodes", {
    clusterName: cluster.clusterName,
    kubernetesVersion: "1.33",
    stage: lepton.AwsAddonStage.BEFORE_NODES,
}, opts);

const system = new lepton.AwsManagedNodeGroup("system", {
    clusterName: cluster.clusterName,
    kubernetesVersion: "1.33",
    nodeRoleArn: cluster.nodeRoleArn,
    subnetIds: network.privateSubnetIds,
    instanceType: "m7i.xlarge",
    minNodes: 2,
    maxNodes: 4,
    kmsKeyArn: key.arn,
    labels: { "lepton.ai/pool": "system" },
}, { ...opts, dependsOn: [cluster, beforeNodes] });

const afterSystemPool = new lepton.AwsEksAddons("site-after-system-pool", {
    clusterName: cluster.clusterName,
    kubernetesVersion: "1.33",
    stage: lepton.AwsAddonStage.AFTER_SYSTEM_POOL,
}, { ...opts, dependsOn: [system] });

// GPU nodes carry lepton-infra's standard pool labels and taint, so the cluster target's defaults find them.
// Nothing autoscales a managed node group: it runs minNodes nodes, here the two the job spans. To grow GPU pools
// from zero, give the cluster an AwsKarpenter and install Karpenter's charts and NodePools (see its docs).
const h100 = new lepton.AwsManagedNodeGroup("h100", {
    clusterName: cluster.clusterName,
    kubernetesVersion: "1.33",
    nodeRoleArn: cluster.nodeRoleArn,
    subnetIds: network.privateSubnetIds,
    instanceType: "p5.48xlarge",
    amiType: "AL2023_x86_64_NVIDIA",
    minNodes: 2,
    maxNodes: 2,
    kmsKeyArn: key.arn,
    labels: { "lepton.ai/pool": "h100", "lepton.ai/accelerator": "H100" },
    taints: [{ key: "nvidia.com/gpu", value: "present" }],
}, { ...opts, dependsOn: [cluster, beforeNodes] });

// The training job's own IAM role (IRSA): the artifact bucket, the image repository and the key, nothing else.
const trainer = new lepton.AwsWorkloadRole("pretrain", {
    oidcProviderArn: cluster.oidcProviderArn,
    oidcIssuer: cluster.oidcIssuer,
    namespace: "ml",
    serviceAccount: "pretrain",
    bucketArn: artifacts.arn,
    repositoryArns: [images.arn],
    kmsKeyArn: key.arn,
}, opts);

// The cluster as the Kubernetes components see it: facts, no callables. Its kubeconfig is an input of its own.
const target = {
    name: "aws-usw2",
    registry: images.repositoryUrl.apply(url => url.split("/")[0]),
    artifactBucketUri: artifacts.uri,
    cloud: "aws",
    // With the pool's instance type, the catalog sizes each pod by its share of a node.
    gpuPools: [{
        name: "h100", accelerator: lepton.GpuModel.H100, gpusPerNode: 8, instanceType: "p5.48xlarge", maxNodes: 2,
    }],
    // AL2023 NVIDIA AMIs bring the driver and toolkit: the GPU Operator runs beside them, CDI off, as
    // lepton-infra's own EKS site runs it (the default for cloud aws; gpuOperatorValues overrides).
    gpuStack: "operator",
};

const gpuRuntime = new lepton.GpuRuntime("aws-usw2", {
    kubeconfig: cluster.kubeconfig,
    cluster: target,
}, { dependsOn: [afterSystemPool, h100] });

const ml = new lepton.TenantNamespace("ml", {
    kubeconfig: cluster.kubeconfig,
    cluster: target,
    namespace: "ml",
    // Two whole H100 nodes: each pod takes its node's share (191 cores, 1892 GiB on a p5.48xlarge).
    quota: { gpus: 16, cpuMillicores: 384000, memoryMib: 3875840 },
}, { dependsOn: [afterSystemPool] });

const pretrain = new lepton.TrainingJob("pretrain", {
    kubeconfig: cluster.kubeconfig,
    cluster: target,
    workload: {
        name: "pretrain",
        accelerator: lepton.GpuModel.H100,
        namespace: "ml",
        image: {
            repository: "lepton/train",
            tag: "0.1.0",
            digest: "sha256:907bfbc0df5e022d4165c9ae35674cef5db1982e1bc5f562e26421f7c65bc091",
        },
        nodes: 2,
        gpusPerNode: 8,
        maxSteps: 100000,
        checkpointEverySteps: 1000,
    },
    identity: { annotations: { "eks.amazonaws.com/role-arn": trainer.arn } },
}, { dependsOn: [ml, gpuRuntime] });

export const kubeconfig = cluster.kubeconfig;
export const repositoryUrl = images.repositoryUrl;
export const trainingJob = pretrain.jobName;
