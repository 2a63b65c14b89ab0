"""Construct over gRPC, as a TypeScript, Go or YAML program reaches the package, builds what Python builds.

Each test constructs a package component through the provider plugin (its own process, under a fake engine:
``provider_harness``) with inputs as the program's SDK sends them (schema names, numbers as floats, secrets
marked), and compares every resource registered beneath our component with what a Python program that imports
the component registers under ``lepton-infra plan``'s mocks: same types, names, inputs, options.
"""

from __future__ import annotations

import json

import pulumi
import pytest
from parity import aws_h100_handle, children, python_children
from plan_helpers import stack_config
from provider_harness import STACK_URN, FakeEngine, output, resource_reference, secret
from pulumi.provider.experimental.util import camel_case

from lepton_infra.blueprint.workloads import TrainingWorkloadSpec
from lepton_infra.components.handle import ServiceAccountBinding
from lepton_infra.plan.recorder import SECRET_MASK

DIGEST = "sha256:" + "ab" * 32
ECR_URN = "urn:pulumi:dev::consumer::lepton-infra:index:AwsEcrRepository::train"


def test_aws_network_over_grpc_builds_what_python_builds_through_the_programs_provider(
    engine: FakeEngine,
) -> None:
    from lepton_infra.components.aws import AwsNetwork, AwsNetworkArgs

    aws_provider = engine.provider_resource("aws", "usw2", {"region": "us-west-2"})
    built = engine.construct(
        "lepton-infra:index:AwsNetwork",
        "gpu",
        {"cidr": "10.20.0.0/16", "zoneCount": 3.0, "clusterName": "gpu-eks", "tags": {"team": "ml"}},
        providers={"aws": aws_provider},
    )

    def python_program() -> None:
        import pulumi_aws as aws

        usw2 = aws.Provider("usw2", region="us-west-2")
        AwsNetwork(
            "gpu",
            AwsNetworkArgs(cidr="10.20.0.0/16", zone_count=3, cluster_name="gpu-eks", tags={"team": "ml"}),
            pulumi.ResourceOptions(provider=usw2),
        )

    expected = python_children(python_program, "lepton:aws:Network")
    assert children(built.resources, "lepton:aws:Network") == expected
    assert len([c for c in expected if c[0].endswith("aws:ec2/subnet:Subnet")]) == 6
    # The program's explicit provider reaches every AWS resource; nothing falls back to ambient config.
    aws_resources = [r for r in built.resources if r.custom and r.type.startswith("aws:")]
    assert aws_resources and {r.provider for r in aws_resources} == {aws_provider}
    assert set(built.state) == {"vpcId", "privateSubnetIds", "publicSubnetIds"}
    assert len(built.state["privateSubnetIds"]) == 3


def test_azure_aks_cluster_over_grpc_builds_what_python_builds_with_its_system_pool_and_grants(
    engine: FakeEngine,
) -> None:
    from pulumi_azure_native import authorization

    from lepton_infra.components.azure import AzureAksCluster, AzureAksClusterArgs, AzureNodePoolArgs

    arm = "/subscriptions/s/resourceGroups/rg/providers"
    subnet = f"{arm}/Microsoft.Network/virtualNetworks/v/subnets/nodes"
    common = {
        "resource_group_name": "lepton-rg",
        "location": "eastus2",
        "subscription_id": "00000000-0000-0000-0000-000000000001",
        "tenant_id": "00000000-0000-0000-0000-000000000002",
        "kubernetes_version": "1.33",
        "node_subnet_id": subnet,
        "api_server_subnet_id": subnet + "-api",
        "vault_id": f"{arm}/Microsoft.KeyVault/vaults/kv",
        "key_id": f"{arm}/Microsoft.KeyVault/vaults/kv/keys/cmk",
        "key_uri_with_version": "https://kv.vault.azure.net/keys/cmk/0123456789abcdef",
        "disk_encryption_set_id": f"{arm}/Microsoft.Compute/diskEncryptionSets/d",
    }
    camel = {camel_case(k): v for k, v in common.items()}
    # The disk encryption set's grant on the key: a resource of another package, passed by reference.
    grant = {
        "principalId": "00000000-0000-0000-0000-0000000000aa",
        "principalType": "ServicePrincipal",
        "roleDefinitionId": "e147488a-f6f5-4113-8e2d-b22465e65bf6",
        "scope": common["key_id"],
    }
    grant_urn, grant_id = engine.register("azure-native:authorization:RoleAssignment", "des-grant", grant)

    built = engine.construct(
        "lepton-infra:index:AzureAksCluster",
        "aks",
        {
            **camel,
            "clusterName": "lepton-aks",
            "adminGroupObjectIds": ["11111111-2222-3333-4444-555555555555"],
            "systemPool": {
                "vmSize": "Standard_D8s_v5",
                "minNodes": 2.0,
                "maxNodes": 4.0,
                "kubernetesVersion": "1.33",
                "subnetId": subnet,
                "zones": ["1", "2"],
                "labels": {"lepton.ai/pool": "system"},
            },
            "logRetentionDays": 30.0,
            "prerequisiteGrants": [resource_reference(grant_urn, grant_id)],
        },
        # A value another resource produced arrives as an output, with its dependency.
        dependencies={"keyId": ["urn:pulumi:dev::consumer::lepton-infra:index:AzureVaultKey::kv"]},
    )

    def python_program() -> None:
        des_grant = authorization.RoleAssignment(
            "des-grant",
            authorization.RoleAssignmentArgs(
                principal_id=grant["principalId"],
                principal_type="ServicePrincipal",
                role_definition_id=grant["roleDefinitionId"],
                scope=grant["scope"],
            ),
        )
        AzureAksCluster(
            "aks",
            AzureAksClusterArgs(
                **common,
                cluster_name="lepton-aks",
                admin_group_object_ids=["11111111-2222-3333-4444-555555555555"],
                system_pool=AzureNodePoolArgs(
                    vm_size="Standard_D8s_v5",
                    min_nodes=2,
                    max_nodes=4,
                    kubernetes_version="1.33",
                    subnet_id=subnet,
                    zones=["1", "2"],
                    labels={"lepton.ai/pool": "system"},
                ),
                log_retention_days=30,
                prerequisite_grants=[des_grant],
            ),
        )

    expected = python_children(python_program, "lepton:azure:AksCluster")
    assert children(built.resources, "lepton:azure:AksCluster") == expected
    # The cluster waits out the propagation of the grant it was handed, named by its ID.
    (sleep,) = [r for r in built.resources if r.type == "time:index/sleep:Sleep"]
    assert grant_id in sleep.inputs["triggers"].values()
    assert any(c[0] == "azure-native:containerservice:ManagedCluster" for c in expected)
    assert built.state["kubeconfig"] == SECRET_MASK


def test_alicloud_node_pool_over_grpc_builds_what_python_builds_with_its_taints(engine: FakeEngine) -> None:
    from lepton_infra.components.alicloud import AlicloudNodePool, AlicloudNodePoolArgs
    from lepton_infra.components.alicloud.node_pool import NodeTaint

    built = engine.construct(
        "lepton-infra:index:AlicloudNodePool",
        "h100",
        {
            "clusterId": "c0123456789",
            "vswitchIds": ["vsw-a", "vsw-b"],
            "instanceType": "ecs.gn8v.48xlarge",
            "minNodes": 0.0,
            "maxNodes": 4.0,
            "kmsKeyId": "key-0123",
            "gpu": True,
            "labels": {"lepton.ai/pool": "h100", "lepton.ai/accelerator": "H100"},
            "taints": [{"key": "nvidia.com/gpu", "value": "present"}],
        },
    )

    expected = python_children(
        lambda: AlicloudNodePool(
            "h100",
            AlicloudNodePoolArgs(
                cluster_id="c0123456789",
                vswitch_ids=["vsw-a", "vsw-b"],
                instance_type="ecs.gn8v.48xlarge",
                min_nodes=0,
                max_nodes=4,
                kms_key_id="key-0123",
                gpu=True,
                # The package orders maps by key: a map from the wire has no order of its own.
                labels={"lepton.ai/accelerator": "H100", "lepton.ai/pool": "h100"},
                taints=(NodeTaint("nvidia.com/gpu", "present"),),
            ),
        ),
        "lepton:alicloud:NodePool",
    )
    assert children(built.resources, "lepton:alicloud:NodePool") == expected
    (pool,) = [r for r in built.resources if r.type == "alicloud:cs/nodePool:NodePool"]
    assert pool.inputs["taints"] == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]


def test_training_job_over_grpc_builds_what_python_builds_from_cluster_facts(engine: FakeEngine) -> None:
    from lepton_infra.components.kubernetes.training_job import TrainingJob, TrainingJobArgs

    role_arn = "arn:aws:iam::123456789012:role/pretrain"
    built = engine.construct(
        "lepton-infra:index:TrainingJob",
        "pretrain",
        {
            "kubeconfig": secret("apiVersion: v1\nkind: Config\n"),
            "cluster": {
                "name": "aws-usw2",
                # Another resource's output inside an object input reaches the component as an output.
                "registry": output("123456789012.dkr.ecr.us-west-2.amazonaws.com", ECR_URN),
                "artifactBucketUri": "s3://lepton-artifacts",
                "cloud": "aws",
                "gpuPools": [
                    {"name": "h100", "accelerator": "H100", "gpusPerNode": 8.0, "instanceType": "p5.48xlarge"}
                ],
            },
            "workload": {
                "name": "pretrain",
                "accelerator": "H100",
                "image": {"repository": "lepton/train", "digest": DIGEST},
                "nodes": 2.0,
                "gpusPerNode": 8.0,
                "maxSteps": 1000.0,
                "failFastExitCodes": [1.0, 2.0],
            },
            "identity": {"annotations": {"eks.amazonaws.com/role-arn": role_arn}},
        },
    )

    def python_program() -> None:
        handle = aws_h100_handle(
            "pretrain",
            "aws-usw2",
            kubeconfig="apiVersion: v1\nkind: Config\n",
            registry="123456789012.dkr.ecr.us-west-2.amazonaws.com",
            bucket="s3://lepton-artifacts",
            binding=ServiceAccountBinding(annotations={"eks.amazonaws.com/role-arn": role_arn}),
        )
        workload = TrainingWorkloadSpec.model_validate(
            {
                "kind": "training",
                "name": "pretrain",
                "accelerator": "H100",
                "sites": ["aws-usw2"],
                "image": {"repository": "lepton/train", "digest": DIGEST},
                "nodes": 2,
                "gpus_per_node": 8,
                "max_steps": 1000,
                "fail_fast_exit_codes": [1, 2],
            }
        )
        TrainingJob("pretrain", TrainingJobArgs(handle, workload))

    expected = python_children(python_program, "lepton:kubernetes:TrainingJob")
    assert children(built.resources, "lepton:kubernetes:TrainingJob") == expected
    (job,) = [r for r in built.resources if r.type == "kubernetes:batch/v1:Job"]
    assert job.inputs["spec"]["completions"] == 2
    (account,) = [r for r in built.resources if r.type == "kubernetes:core/v1:ServiceAccount"]
    assert account.inputs["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": role_arn}
    # The kubeconfig reached the cluster's provider, still a secret.
    (provider,) = [r for r in built.resources if r.type == "pulumi:providers:kubernetes"]
    assert provider.inputs["kubeconfig"] == SECRET_MASK
    assert set(built.state) == {"jobName", "serviceName"}


def test_the_component_is_a_child_of_the_program_that_asked_for_it(engine: FakeEngine) -> None:
    built = engine.construct(
        "lepton-infra:index:AwsKmsKey", "site", {"description": "site key", "alias": "lepton-site"}
    )
    (component,) = [r for r in built.resources if r.type == "lepton-infra:index:AwsKmsKey"]
    assert component.parent == STACK_URN
    assert built.urn == component.urn
    (inner,) = [r for r in built.resources if r.type == "lepton:aws:KmsKey"]
    assert inner.parent == component.urn


def test_the_platform_over_grpc_builds_what_python_builds_from_the_same_spec(engine: FakeEngine) -> None:
    from lepton_infra.blueprint import PlatformSpec
    from lepton_infra.platform import Platform

    platform = stack_config("existing-cluster")
    platform["sites"][0]["kubeconfig"] = {"secret_config_key": "onprem-kubeconfig"}
    kubeconfig = "apiVersion: v1\nkind: Config\n"

    built = engine.construct(
        "lepton-infra:index:Platform",
        "lepton",
        {"platform": platform, "secrets": {"onprem-kubeconfig": output(kubeconfig, is_secret=True)}},
    )

    expected = python_children(
        lambda: Platform(
            "lepton",
            PlatformSpec.model_validate(platform),
            secrets=lambda key: pulumi.Output.secret({"onprem-kubeconfig": kubeconfig}[key]),
        ),
        "lepton:index:Platform",
    )
    assert children(built.resources, "lepton:index:Platform") == expected
    assert any(c[0].endswith("kubernetes:batch/v1:Job") for c in expected)
    # The spec's teams reach the package's platform too: Kueue queues per team, the jobs labelled for them.
    assert platform["teams"]
    assert any(c[0].endswith("kueue.x-k8s.io/v1beta2:ClusterQueue") for c in expected)
    assert built.state["kubeconfigs"] == SECRET_MASK
    assert built.state["registries"] == {"onprem": platform["sites"][0]["registry"]}


def test_pulumi_package_add_gets_the_schema_the_cli_prints_and_the_packages_version(
    engine: FakeEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    from lepton_infra.cli import main

    assert main(["package-schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert json.loads(engine.schema()) == printed
    assert engine.version() == printed["version"]
