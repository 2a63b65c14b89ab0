"""The AWS site's security properties, asserted on the resources the offline plan records."""

from __future__ import annotations

import copy
import gzip
import json

from plan_helpers import ROOT, attached_policies, config_plan, only, policy_json, stack_config, stack_plan

from lepton_infra.plan.fakes import ACCOUNT_ID
from lepton_infra.plan.model import Plan


def site_key_arn(plan: Plan) -> str:
    arn: str = only(plan, "aws:kms/key:Key").outputs["arn"]
    return arn


def test_every_cloud_resource_uses_the_sites_explicit_provider(dev: Plan) -> None:
    provider = only(dev, "pulumi:providers:aws")
    assert provider.inputs["region"] == "us-west-2"
    # Provider config reaches the engine JSON-encoded, as the CLI stores it.
    assert json.loads(provider.inputs["defaultTags"])["tags"]["cost-center"] == "4711"
    aws_resources = [r for r in dev.custom_resources() if r.type.startswith("aws:")]
    assert aws_resources
    assert {r.provider.split("::")[-2] if r.provider else None for r in aws_resources} == {provider.name}


def test_cluster_secrets_are_encrypted_with_the_sites_own_key(dev: Plan) -> None:
    cluster = only(dev, "aws:eks/cluster:Cluster")
    encryption = cluster.inputs["encryptionConfig"]
    assert encryption["resources"] == ["secrets"]
    assert encryption["provider"]["keyArn"] == site_key_arn(dev)


def test_cluster_is_pinned_private_logged_and_uses_access_entries(prod: Plan) -> None:
    cluster = only(prod, "aws:eks/cluster:Cluster")
    assert cluster.inputs["version"] == "1.33"
    assert cluster.inputs["vpcConfig"]["endpointPrivateAccess"] is True
    assert cluster.inputs["vpcConfig"]["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in cluster.inputs["vpcConfig"]
    assert set(cluster.inputs["enabledClusterLogTypes"]) == {
        "api",
        "audit",
        "authenticator",
        "controllerManager",
        "scheduler",
    }
    assert cluster.inputs["accessConfig"]["authenticationMode"] == "API"
    assert cluster.inputs["deletionProtection"] is True


def test_the_dev_cluster_answers_its_first_up_from_the_allowlist_only(dev: Plan) -> None:
    """aws-dev deploys both layers from a laptop: its endpoint is public to the allowlist, nobody else
    (EKS VpcConfigRequest: publicAccessCidrs defaults to 0.0.0.0/0 when the public endpoint is on)."""
    vpc = only(dev, "aws:eks/cluster:Cluster").inputs["vpcConfig"]
    assert vpc["endpointPublicAccess"] is True
    assert vpc["endpointPrivateAccess"] is True
    assert vpc["publicAccessCidrs"] == stack_config("aws-dev")["sites"][0]["network"]["api_allowlist"]


def test_cluster_nodes_run_only_in_private_subnets(dev: Plan) -> None:
    private = {r.outputs["id"] for r in dev.of_type("aws:ec2/subnet:Subnet") if "private" in r.name}
    public = {r.outputs["id"] for r in dev.of_type("aws:ec2/subnet:Subnet") if "public" in r.name}
    assert len(private) == 2 and len(public) == 2
    assert set(only(dev, "aws:eks/cluster:Cluster").inputs["vpcConfig"]["subnetIds"]) == private
    for group in dev.of_type("aws:eks/nodeGroup:NodeGroup"):
        assert set(group.inputs["subnetIds"]) == private
    for subnet in dev.of_type("aws:ec2/subnet:Subnet"):
        assert subnet.inputs["mapPublicIpOnLaunch"] is False


def test_subnets_carry_the_tags_eks_load_balancers_look_for(dev: Plan) -> None:
    for subnet in dev.of_type("aws:ec2/subnet:Subnet"):
        role = "kubernetes.io/role/elb" if "public" in subnet.name else "kubernetes.io/role/internal-elb"
        assert subnet.inputs["tags"][role] == "1"
        assert subnet.inputs["tags"]["kubernetes.io/cluster/lepton-aws-usw2"] == "shared"


def test_subnets_span_two_zones_and_prod_three(dev: Plan, prod: Plan) -> None:
    def zones(plan: Plan) -> set[str]:
        return {
            r.inputs["availabilityZone"] for r in plan.of_type("aws:ec2/subnet:Subnet") if "private" in r.name
        }

    assert len(zones(dev)) == 2
    assert len(zones(prod)) == 3
    assert len(prod.of_type("aws:ec2/natGateway:NatGateway")) == 3


def test_an_allowlist_opens_the_endpoint_only_to_those_cidrs() -> None:
    platform = copy.deepcopy(stack_config("aws-dev"))
    platform["sites"][0]["network"]["api_allowlist"] = ["203.0.113.0/24"]
    vpc = only(config_plan(platform), "aws:eks/cluster:Cluster").inputs["vpcConfig"]
    assert vpc["endpointPublicAccess"] is True
    assert vpc["publicAccessCidrs"] == ["203.0.113.0/24"]
    assert vpc["endpointPrivateAccess"] is True


def test_oidc_provider_trusts_the_clusters_issuer_for_sts(dev: Plan) -> None:
    cluster = only(dev, "aws:eks/cluster:Cluster")
    oidc = only(dev, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert oidc.inputs["url"] == cluster.outputs["identities"][0]["oidcs"][0]["issuer"]
    assert oidc.inputs["clientIdLists"] == ["sts.amazonaws.com"]


def test_the_system_pool_is_a_managed_node_group_without_taints_and_gpu_pools_are_karpenters(
    dev: Plan,
) -> None:
    (group,) = dev.of_type("aws:eks/nodeGroup:NodeGroup")
    assert group.name.endswith("-system-ng")
    assert not group.inputs.get("taints")
    assert group.inputs["labels"] == {"lepton.ai/pool": "system"}
    assert group.inputs["scalingConfig"] == {"minSize": 2, "maxSize": 3, "desiredSize": 2}
    assert [r.name for r in dev.of_type("kubernetes:karpenter.sh/v1:NodePool")] == [
        "aws-usw2-services-karpenter-nodepool-l4"
    ]


def test_nodes_require_imdsv2_and_encrypt_gp3_root_volumes_with_the_site_key(dev: Plan) -> None:
    templates = dev.of_type("aws:ec2/launchTemplate:LaunchTemplate")
    assert len(templates) == len(dev.of_type("aws:eks/nodeGroup:NodeGroup"))
    for template in templates:
        metadata = template.inputs["metadataOptions"]
        assert metadata["httpTokens"] == "required"
        assert metadata["httpPutResponseHopLimit"] == 1
        (device,) = template.inputs["blockDeviceMappings"]
        assert device["ebs"]["encrypted"] == "true"
        assert device["ebs"]["volumeType"] == "gp3"
        assert device["ebs"]["kmsKeyId"] == site_key_arn(dev)
        assert "keyName" not in template.inputs
    for group in dev.of_type("aws:eks/nodeGroup:NodeGroup"):
        assert "remoteAccess" not in group.inputs
        template_ids = {t.outputs["id"] for t in templates}
        assert group.inputs["launchTemplate"]["id"] in template_ids


def test_kms_key_rotates_waits_30_days_and_grants_no_wildcard_principal(dev: Plan) -> None:
    key = only(dev, "aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    assert key.protect is True
    for statement in policy_json(key.inputs["policy"])["Statement"]:
        principals = statement["Principal"]
        assert principals != "*" and principals.get("AWS") != "*", statement
    assert only(dev, "aws:kms/alias:Alias").inputs["name"] == "alias/lepton-aws-usw2"


def test_repositories_are_immutable_scanned_encrypted_and_expire_old_images(dev: Plan) -> None:
    repositories = dev.of_type("aws:ecr/repository:Repository")
    assert {r.inputs["name"] for r in repositories} == {"lepton/train", "lepton/serve"}
    for repo in repositories:
        assert repo.inputs["imageTagMutability"] == "IMMUTABLE"
        assert repo.inputs["imageScanningConfiguration"]["scanOnPush"] is True
        assert repo.inputs["encryptionConfigurations"] == [
            {"encryptionType": "KMS", "kmsKey": site_key_arn(dev)}
        ]
        assert repo.protect is True
    policies = {
        p.inputs["repository"]: json.loads(p.inputs["policy"])
        for p in dev.of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy")
    }
    assert set(policies) == {"lepton/train", "lepton/serve"}
    assert all(rule["action"]["type"] == "expire" for p in policies.values() for rule in p["rules"])


def test_artifact_bucket_is_versioned_kms_encrypted_private_and_tls_only(dev: Plan) -> None:
    bucket = only(dev, "aws:s3/bucket:Bucket", "artifacts-bucket")
    name = bucket.outputs["bucket"]
    assert bucket.protect is True
    versioning = only(dev, "aws:s3/bucketVersioning:BucketVersioning", "artifacts-versioning")
    assert versioning.inputs["bucket"] == name
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
    (rule,) = only(
        dev,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "artifacts-encryption",
    ).inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": site_key_arn(dev),
    }
    assert rule["bucketKeyEnabled"] is True
    block = only(
        dev, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "artifacts-public-access"
    ).inputs
    assert all(
        block[k] is True
        for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    ownership = only(
        dev, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "artifacts-ownership"
    ).inputs
    assert ownership["rule"]["objectOwnership"] == "BucketOwnerEnforced"
    (deny,) = policy_json(
        only(dev, "aws:s3/bucketPolicy:BucketPolicy", "artifacts-tls-only").inputs["policy"]
    )["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert set(deny["Resource"]) == {bucket.outputs["arn"], bucket.outputs["arn"] + "/*"}


def test_artifact_bucket_logs_its_access_into_the_sites_log_bucket_that_log_delivery_can_write(
    dev: Plan,
) -> None:
    artifacts = only(dev, "aws:s3/bucket:Bucket", "artifacts-bucket")
    logs = only(dev, "aws:s3/bucket:Bucket", "access-logs-bucket")
    logging = only(dev, "aws:s3/bucketLogging:BucketLogging").inputs
    assert logging["bucket"] == artifacts.outputs["bucket"]
    assert logging["targetBucket"] == logs.outputs["bucket"] != artifacts.outputs["bucket"]
    # An owner-enforced target refuses target grants (hashicorp/terraform-provider-aws#31771).
    assert "targetGrants" not in logging
    assert logs.protect is True
    # Default SSE-KMS is not supported on a server access log target; SSE-S3 is (Amazon S3 user guide,
    # Enabling server access logging).
    (rule,) = only(
        dev,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "access-logs-encryption",
    ).inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    ownership = only(dev, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "access-logs").inputs
    assert ownership == {"bucket": logs.outputs["bucket"], "rule": {"objectOwnership": "BucketOwnerEnforced"}}
    block = only(dev, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "access-logs").inputs
    assert all(
        block[k] is True
        for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    versioning = only(dev, "aws:s3/bucketVersioning:BucketVersioning", "access-logs").inputs
    assert versioning["versioningConfiguration"]["status"] == "Enabled"
    lifecycle = only(dev, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "access-logs")
    (expiry,) = lifecycle.inputs["rules"]
    assert expiry["expiration"]["days"] == 365
    deny, grant = policy_json(only(dev, "aws:s3/bucketPolicy:BucketPolicy", "access-logs").inputs["policy"])[
        "Statement"
    ]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # Log delivery writes through the bucket policy, for the artifact bucket of this account only.
    assert grant["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert grant["Action"] == ["s3:PutObject"]
    assert grant["Resource"] == [f"{logs.outputs['arn']}/{logging['targetPrefix']}*"]
    assert grant["Condition"] == {
        "ArnLike": {"aws:SourceArn": artifacts.outputs["arn"]},
        "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
    }
    # No Object Lock: the target "must not have a default retention period configuration".
    assert not dev.of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    assert "objectLockConfiguration" not in logs.inputs


def test_node_role_has_only_the_managed_policies_eks_needs(dev: Plan) -> None:
    assert attached_policies(dev, "node-role") == {
        "AmazonEKSWorkerNodePolicy",
        "AmazonEKS_CNI_Policy",
        "AmazonEC2ContainerRegistryReadOnly",
    }


def test_control_plane_logs_are_kept_and_encrypted(dev: Plan) -> None:
    group = only(dev, "aws:cloudwatch/logGroup:LogGroup", "cluster-logs")
    assert group.inputs["name"] == "/aws/eks/lepton-aws-usw2/cluster"
    assert group.inputs["kmsKeyId"] == site_key_arn(dev)
    assert group.inputs["retentionInDays"] == 90


def test_unprotected_when_the_site_asks_for_it() -> None:
    platform = copy.deepcopy(stack_config("aws-dev"))
    platform["sites"][0]["protect_stateful"] = False
    plan = config_plan(platform)
    assert not any(r.protect for r in plan.resources)
    assert only(plan, "aws:eks/cluster:Cluster").inputs["deletionProtection"] is False


def test_vpc_flow_logs_capture_all_traffic_into_an_encrypted_group(dev: Plan) -> None:
    flow_log = only(dev, "aws:ec2/flowLog:FlowLog")
    group = only(dev, "aws:cloudwatch/logGroup:LogGroup", "flow-logs")
    assert flow_log.inputs["vpcId"] == only(dev, "aws:ec2/vpc:Vpc").outputs["id"]
    assert flow_log.inputs["trafficType"] == "ALL"
    assert flow_log.inputs["logDestination"] == group.outputs["arn"]
    assert group.inputs["kmsKeyId"] == site_key_arn(dev)
    role = only(dev, "aws:iam/role:Role", "flow-logs")
    assert flow_log.inputs["iamRoleArn"] == role.outputs["arn"]
    (trust,) = policy_json(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    grants = policy_json(only(dev, "aws:iam/rolePolicy:RolePolicy", "flow-logs").inputs["policy"])[
        "Statement"
    ]
    assert {r for g in grants for r in g["Resource"]} == {
        group.outputs["arn"],
        group.outputs["arn"] + ":log-stream:*",
    }


def test_an_existing_stack_keeps_its_system_node_group_under_the_new_compute_component() -> None:
    """The system pool moved under the cluster's compute component; without an alias naming its old place,
    the next `pulumi up` of a stack made before would replace the node group every add-on runs on."""
    fixture = ROOT / "tests/operability/plans_ae54ed7/aws-dev.json.gz"
    before = json.loads(gzip.decompress(fixture.read_bytes()))
    old_urns = {r["urn"] for r in before["resources"]}
    system = next(r for r in stack_plan("aws-dev").resources if r.type == "lepton:aws:ManagedNodeGroup")
    [alias] = system.options["aliases"]
    parent_type = alias["spec"]["parentUrn"].split("::")[2]
    old_name = alias["spec"]["name"]
    old_urn = f"urn:pulumi:aws-dev::lepton-infra::{parent_type}$lepton:aws:ManagedNodeGroup::{old_name}"
    assert old_urn in old_urns
    # Its node group keeps its name relative to the component, so the engine's inherited alias finds it.
    assert f"{old_urn.rsplit('::', 1)[0]}$aws:eks/nodeGroup:NodeGroup::{old_name}-ng" in old_urns
