"""The Alibaba Cloud site's security properties, asserted on the resources the offline plan records."""

from __future__ import annotations

import copy

import pytest
from plan_helpers import config_plan, only, policy_json, stack_config, whole_plan

from lepton_infra.plan.model import Plan, PlanResource


@pytest.fixture(scope="module")
def prod() -> Plan:
    return whole_plan("alicloud-prod")


def key_id(plan: Plan) -> str:
    identifier: str = only(plan, "alicloud:kms/key:Key").outputs["id"]
    return identifier


def cluster(plan: Plan) -> PlanResource:
    return only(plan, "alicloud:cs/managedKubernetes:ManagedKubernetes")


def vswitch_ids(plan: Plan, role: str) -> list[str]:
    return [r.outputs["id"] for r in plan.of_type("alicloud:vpc/switch:Switch") if f"-{role}-" in r.name]


def node_pool(plan: Plan, pool: str) -> PlanResource:
    return only(plan, "alicloud:cs/nodePool:NodePool", f"-{pool}-pool")


def test_every_cloud_resource_uses_the_sites_explicit_provider(prod: Plan) -> None:
    provider = only(prod, "pulumi:providers:alicloud")
    assert provider.inputs["region"] == "cn-hangzhou"
    resources = [r for r in prod.custom_resources() if r.type.startswith("alicloud:")]
    assert resources
    assert {r.provider.split("::")[-2] if r.provider else None for r in resources} == {provider.name}
    for resource in resources:
        if "tags" in resource.inputs:
            assert resource.inputs["tags"]["cost-center"] == "4711", resource.name


def test_cluster_is_ack_pro_pinned_private_and_protected_from_deletion(prod: Plan) -> None:
    ack = cluster(prod).inputs
    assert ack["clusterSpec"] == "ack.pro.small"
    assert ack["version"] == "1.33.1-aliyun.1"
    assert ack["slbInternetEnabled"] is False
    assert ack["newNatGateway"] is False
    assert ack["deletionProtection"] is True


def test_cluster_secrets_are_encrypted_with_the_sites_own_key(prod: Plan) -> None:
    ack = cluster(prod).inputs
    assert ack["disableEncryption"] is False
    assert ack["encryptionProviderKey"] == key_id(prod)


def test_cluster_runs_terway_with_network_policy_and_the_rrsa_webhook(prod: Plan) -> None:
    addons = {a["name"]: a for a in cluster(prod).inputs["addons"]}
    assert policy_json(addons["terway-eniip"]["config"])["NetworkPolicy"] == "true"
    assert "flannel" not in addons
    assert "ack-pod-identity-webhook" in addons
    assert cluster(prod).inputs["enableRrsa"] is True


def test_control_plane_and_audit_logs_go_to_our_sls_project_with_retention(prod: Plan) -> None:
    project = only(prod, "alicloud:log/project:Project")
    ack = cluster(prod).inputs
    assert ack["controlPlaneLogProject"] == project.inputs["projectName"]
    assert set(ack["controlPlaneLogComponents"]) == {
        "apiserver",
        "kcm",
        "scheduler",
        "ccm",
        "controlplane-events",
    }
    assert ack["controlPlaneLogTtl"] == "180"
    assert ack["auditLogConfig"] == {"enabled": True, "slsProjectName": project.inputs["projectName"]}
    assert project.protect is True


def test_nodes_and_pods_use_their_own_vswitches_in_three_zones(prod: Plan) -> None:
    nodes, pods = vswitch_ids(prod, "nodes"), vswitch_ids(prod, "pods")
    assert len(nodes) == 3 and len(pods) == 3
    zones = {r.inputs["zoneId"] for r in prod.of_type("alicloud:vpc/switch:Switch")}
    assert zones == {"cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"}
    assert cluster(prod).inputs["vswitchIds"] == nodes
    assert cluster(prod).inputs["podVswitchIds"] == pods
    for pool in prod.of_type("alicloud:cs/nodePool:NodePool"):
        assert pool.inputs["vswitchIds"] == nodes


def test_egress_leaves_through_one_nat_gateway_and_nodes_get_no_public_ip(prod: Plan) -> None:
    nat = only(prod, "alicloud:vpc/natGateway:NatGateway")
    eip = only(prod, "alicloud:ecs/eipAddress:EipAddress")
    assert (nat.inputs["natType"], nat.inputs["networkType"]) == ("Enhanced", "internet")
    association = only(prod, "alicloud:ecs/eipAssociation:EipAssociation").inputs
    assert (association["allocationId"], association["instanceId"]) == (eip.outputs["id"], nat.outputs["id"])
    assert association["instanceType"] == "Nat"
    snat = prod.of_type("alicloud:vpc/snatEntry:SnatEntry")
    assert {s.inputs["sourceVswitchId"] for s in snat} == set(
        vswitch_ids(prod, "nodes") + vswitch_ids(prod, "pods")
    )
    assert {s.inputs["snatIp"] for s in snat} == {eip.outputs["ipAddress"]}
    assert {s.inputs["snatTableId"] for s in snat} == {nat.outputs["snatTableIds"]}
    for pool in prod.of_type("alicloud:cs/nodePool:NodePool"):
        assert "internetMaxBandwidthOut" not in pool.inputs
        assert "internetChargeType" not in pool.inputs
        assert pool.inputs["scalingConfig"]["isBondEip"] is False


def test_gpu_pool_is_tainted_and_labelled_so_only_gpu_pods_land_there(prod: Plan) -> None:
    a10 = node_pool(prod, "a10").inputs
    assert a10["taints"] == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]
    assert {label["key"]: label["value"] for label in a10["labels"]} == {
        "lepton.ai/accelerator": "A10",
        "lepton.ai/pool": "a10",
    }
    system = node_pool(prod, "system").inputs
    assert not system.get("taints")
    assert system["labels"] == [{"key": "lepton.ai/pool", "value": "system"}]


def test_gpu_pools_use_the_catalog_type_spot_and_autoscaler_range(prod: Plan) -> None:
    a10 = node_pool(prod, "a10").inputs
    assert a10["instanceTypes"] == ["ecs.gn7i-c8g1.2xlarge"]
    assert a10["spotStrategy"] == "SpotAsPriceGo"
    assert a10["scalingConfig"] == {
        "enable": True,
        "minSize": 0,
        "maxSize": 10,
        "type": "spot",
        "isBondEip": False,
    }
    a100 = node_pool(prod, "a100").inputs
    assert a100["instanceTypes"] == ["ecs.gn7e-c16g1.32xlarge"]
    assert a100["spotStrategy"] == "NoSpot"
    assert (a100["scalingConfig"]["minSize"], a100["scalingConfig"]["maxSize"]) == (0, 4)
    # The autoscaler owns the node count.
    assert "desiredSize" not in a100


def test_node_disks_are_encrypted_with_the_site_key_and_metadata_is_hardened(prod: Plan) -> None:
    pools = prod.of_type("alicloud:cs/nodePool:NodePool")
    assert len(pools) == 3
    for pool in pools:
        inputs = pool.inputs
        assert inputs["systemDiskEncrypted"] is True
        assert inputs["systemDiskKmsKey"] == key_id(prod)
        assert inputs["dataDisks"] and all(
            d["encrypted"] == "true" and d["kmsKeyId"] == key_id(prod) for d in inputs["dataDisks"]
        )
        assert inputs["instanceMetadataOptions"] == {"httpTokens": "required"}
        assert "keyName" not in inputs and "password" not in inputs


def test_kms_key_rotates_waits_30_days_and_is_protected(prod: Plan) -> None:
    key = only(prod, "alicloud:kms/key:Key")
    assert key.inputs["automaticRotation"] == "Enabled"
    assert key.inputs["rotationInterval"] == "365d"
    assert key.inputs["pendingWindowInDays"] == 30
    assert key.inputs["deletionProtection"] == "Enabled"
    assert key.protect is True
    alias = only(prod, "alicloud:kms/alias:Alias").inputs
    assert alias == {"aliasName": "alias/lepton-ali-hz", "keyId": key_id(prod)}


def test_registry_is_private_scanned_immutable_and_reached_through_the_vpc(prod: Plan) -> None:
    instance = only(prod, "alicloud:cr/registryEnterpriseInstance:RegistryEnterpriseInstance")
    assert instance.inputs["imageScanner"] == "ACR"
    assert instance.protect is True
    namespace = only(prod, "alicloud:cs/registryEnterpriseNamespace:RegistryEnterpriseNamespace")
    assert (namespace.inputs["autoCreate"], namespace.inputs["defaultVisibility"]) == (False, "PRIVATE")
    repositories = prod.of_type("alicloud:cs/registryEnterpriseRepo:RegistryEnterpriseRepo")
    assert {r.inputs["name"] for r in repositories} == {"train", "serve"}
    for repo in repositories:
        assert (repo.inputs["repoType"], repo.inputs["tagImmutability"]) == ("PRIVATE", True)
        assert repo.protect is True
    scan = only(prod, "alicloud:cr/scanRule:ScanRule").inputs
    assert (scan["scanScope"], scan["triggerType"], scan["scanType"]) == ("NAMESPACE", "AUTO", "VUL")
    assert scan["namespaces"] == ["lepton"]
    endpoint = only(prod, "alicloud:cr/vpcEndpointLinkedVpc:VpcEndpointLinkedVpc").inputs
    assert endpoint["vpcId"] == only(prod, "alicloud:vpc/network:Network").outputs["id"]
    assert endpoint["vswitchId"] in vswitch_ids(prod, "nodes")
    assert not prod.of_type("alicloud:cr/internetEndpoint:InternetEndpoint")


def test_artifact_bucket_is_private_versioned_kms_encrypted_and_tls_only(prod: Plan) -> None:
    bucket = only(prod, "alicloud:oss/bucket:Bucket", "artifacts-bucket")
    name = bucket.outputs["bucket"]
    assert bucket.protect is True
    assert bucket.inputs["forceDestroy"] is False
    assert only(prod, "alicloud:oss/bucketAcl:BucketAcl", "artifacts-acl").inputs == {
        "bucket": name,
        "acl": "private",
    }
    block = only(
        prod, "alicloud:oss/bucketPublicAccessBlock:BucketPublicAccessBlock", "artifacts-public-access"
    ).inputs
    assert block == {"bucket": name, "blockPublicAccess": True}
    assert (
        only(prod, "alicloud:oss/bucketVersioning:BucketVersioning", "artifacts-versioning").inputs["status"]
        == "Enabled"
    )
    encryption = only(
        prod, "alicloud:oss/bucketServerSideEncryption:BucketServerSideEncryption", "artifacts-encryption"
    ).inputs
    assert (encryption["sseAlgorithm"], encryption["kmsMasterKeyId"]) == ("KMS", key_id(prod))
    (deny,) = policy_json(
        only(prod, "alicloud:oss/bucketPolicy:BucketPolicy", "artifacts-tls-only").inputs["policy"]
    )["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"acs:SecureTransport": ["false"]}}
    assert {r.rsplit(":", 1)[-1] for r in deny["Resource"]} == {name, f"{name}/*"}


def test_artifact_bucket_logs_its_access_into_the_sites_private_tls_only_log_bucket(prod: Plan) -> None:
    artifacts = only(prod, "alicloud:oss/bucket:Bucket", "artifacts-bucket").outputs["bucket"]
    log_bucket = only(prod, "alicloud:oss/bucket:Bucket", "access-logs-bucket")
    logs = log_bucket.outputs["bucket"]
    logging = only(prod, "alicloud:oss/bucketLogging:BucketLogging").inputs
    # A separate target: logging a bucket into itself "causes a logging loop" (OSS user guide, Log storage).
    assert (logging["bucket"], logging["targetBucket"]) == (artifacts, logs)
    assert logs != artifacts and len(logs) <= 63
    assert logging["targetPrefix"]
    assert log_bucket.protect is True
    (rule,) = log_bucket.inputs["lifecycleRules"]
    assert rule["enabled"] is True and rule["expirations"][0]["days"] == 365
    assert only(prod, "alicloud:oss/bucketAcl:BucketAcl", "access-logs").inputs == {
        "bucket": logs,
        "acl": "private",
    }
    block = only(prod, "alicloud:oss/bucketPublicAccessBlock:BucketPublicAccessBlock", "access-logs").inputs
    assert block == {"bucket": logs, "blockPublicAccess": True}
    assert (
        only(prod, "alicloud:oss/bucketVersioning:BucketVersioning", "access-logs").inputs["status"]
        == "Enabled"
    )
    encryption = only(
        prod, "alicloud:oss/bucketServerSideEncryption:BucketServerSideEncryption", "access-logs"
    ).inputs
    assert encryption == {"bucket": logs, "sseAlgorithm": "AES256"}
    (deny,) = policy_json(
        only(prod, "alicloud:oss/bucketPolicy:BucketPolicy", "access-logs").inputs["policy"]
    )["Statement"]
    assert deny["Condition"] == {"Bool": {"acs:SecureTransport": ["false"]}}
    assert {r.rsplit(":", 1)[-1] for r in deny["Resource"]} == {logs, f"{logs}/*"}


def test_workload_roles_trust_only_their_service_account_through_the_clusters_rrsa(prod: Plan) -> None:
    rrsa = cluster(prod).outputs["rrsaMetadata"]
    roles = {r.inputs["roleName"]: r for r in prod.of_type("alicloud:ram/role:Role")}
    assert set(roles) == {"lepton-ali-hz-ml-pretrain", "lepton-ali-hz-ml-serve"}
    (statement,) = policy_json(roles["lepton-ali-hz-ml-serve"].inputs["assumeRolePolicyDocument"])[
        "Statement"
    ]
    assert statement["Action"] == ["sts:AssumeRole"]
    assert statement["Principal"] == {"Federated": [rrsa["ramOidcProviderArn"]]}
    assert statement["Condition"] == {
        "StringEquals": {
            "oidc:aud": "sts.aliyuncs.com",
            "oidc:iss": rrsa["rrsaOidcIssuerUrl"],
            "oidc:sub": "system:serviceaccount:ml:serve",
        }
    }


def test_workload_policies_name_every_resource_and_grant_no_wildcard_action(prod: Plan) -> None:
    bucket = only(prod, "alicloud:oss/bucket:Bucket", "artifacts-bucket").outputs["bucket"]
    instance = only(prod, "alicloud:cr/registryEnterpriseInstance:RegistryEnterpriseInstance").outputs["id"]
    policies = prod.of_type("alicloud:ram/policy:Policy")
    assert len(policies) == 2
    for policy in policies:
        statements = policy_json(policy.inputs["policyDocument"])["Statement"]
        grants = {action: s["Resource"] for s in statements for action in s["Action"]}
        assert all("*" not in action for action in grants)
        # ACR documents "*" as the only resource of GetAuthorizationToken.
        assert {a for a, resources in grants.items() if "*" in resources} == {"cr:GetAuthorizationToken"}
        assert grants["oss:GetObject"] == [f"acs:oss:*:5123456789012345:{bucket}/*"]
        assert set(grants["cr:PullRepository"]) == {
            f"acs:cr:cn-hangzhou:5123456789012345:repository/{instance}/lepton/{repo}"
            for repo in ("train", "serve")
        }
        assert grants["kms:Decrypt"] == [only(prod, "alicloud:kms/key:Key").outputs["arn"]]
    attachments = prod.of_type("alicloud:ram/rolePolicyAttachment:RolePolicyAttachment")
    assert {(a.inputs["roleName"], a.inputs["policyType"]) for a in attachments} == {
        ("lepton-ali-hz-ml-pretrain", "Custom"),
        ("lepton-ali-hz-ml-serve", "Custom"),
    }


def test_service_accounts_and_pods_are_bound_through_the_rrsa_webhook(prod: Plan) -> None:
    for sa in prod.of_type("kubernetes:core/v1:ServiceAccount"):
        name = sa.inputs["metadata"]["name"]
        assert sa.inputs["metadata"]["annotations"] == {
            "pod-identity.alibabacloud.com/role-name": f"lepton-ali-hz-ml-{name}"
        }
    deployment = only(prod, "kubernetes:apps/v1:Deployment").inputs["spec"]["template"]
    job = only(prod, "kubernetes:batch/v1:Job").inputs["spec"]["template"]
    for template in (deployment, job):
        assert template["metadata"]["labels"]["pod-identity.alibabacloud.com/injection"] == "on"


def test_workloads_pull_from_the_vpc_registry_domain(prod: Plan) -> None:
    (container,) = only(prod, "kubernetes:apps/v1:Deployment").inputs["spec"]["template"]["spec"][
        "containers"
    ]
    assert container["image"].startswith(
        "lepton-ali-hz-registry-vpc.cn-hangzhou.cr.aliyuncs.com/lepton/serve:"
    )


def test_unprotected_when_the_site_asks_for_it() -> None:
    platform = copy.deepcopy(stack_config("alicloud-prod"))
    platform["sites"][0]["protect_stateful"] = False
    plan = config_plan(platform)
    assert not any(r.protect for r in plan.resources)
    assert cluster(plan).inputs["deletionProtection"] is False
    assert only(plan, "alicloud:kms/key:Key").inputs["deletionProtection"] == "Disabled"
