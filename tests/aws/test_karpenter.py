"""Issue 12, item 3: GPU pools grow from zero. Karpenter launches a pool's nodes when its pods are pending.

Before this, every GPU pool was a managed node group at 0 nodes with nothing to scale it: pending pods stayed
pending. Sources: Karpenter v1.14 (aws/karpenter-provider-aws tag v1.14.1: CRDs vendored under
tests/schemas/karpenter, getting-started cloudformation.yaml for IAM, queue and rules).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from crd_schemas import unknown_values, validate_custom_object
from plan_helpers import (
    attached_policies,
    config_plan,
    config_problems,
    only,
    policy_json,
    stack_config,
    stack_plan,
)

from lepton_infra.plan.manifests import kubernetes_object, write_manifests
from lepton_infra.plan.model import Plan, PlanResource

NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
RELEASE = "kubernetes:helm.sh/v3:Release"
Obj = dict[str, Any]


def objects(plan: Plan, type_token: str) -> dict[str, Obj]:
    found = {}
    for resource in plan.of_type(type_token):
        obj = kubernetes_object(resource)
        assert obj is not None
        found[obj["metadata"]["name"]] = obj
    return found


def release(plan: Plan, chart: str) -> PlanResource:
    (found,) = [r for r in plan.of_type(RELEASE) if r.inputs["chart"].rsplit("/", 1)[-1] == chart]
    return found


def pod_spec(plan: Plan, kind: str) -> Obj:
    (workload,) = plan.of_type(f"kubernetes:{kind}")
    spec: Obj = workload.inputs["spec"]["template"]["spec"]
    return spec


def with_pool(**changes: Any) -> dict[str, Any]:
    """aws-dev with its L4 pool changed: without its teams' quotas, which are sized for the pool as it is
    (and without workloads where the pool's accelerator changes)."""
    platform = copy.deepcopy(stack_config("aws-dev"))
    platform["sites"][0]["gpu_pools"][0].update(changes)
    platform.pop("teams", None)
    for workload in platform["workloads"]:
        workload.pop("team", None)
    if "accelerator" in changes:
        platform["workloads"] = []
    return platform


@pytest.mark.parametrize("stack", ["aws-dev", "aws-prod-k8s"])
def test_every_gpu_pool_has_a_node_pool_and_node_class_valid_for_karpenter_1_14(stack: str) -> None:
    plan = stack_plan(stack)
    pools = {p["name"] for p in stack_config(stack)["sites"][0]["gpu_pools"]}
    node_pools, node_classes = objects(plan, NODE_POOL), objects(plan, NODE_CLASS)
    assert set(node_pools) == set(node_classes) == pools
    for obj in node_pools.values():
        validate_custom_object(obj, "karpenter", "karpenter.sh_nodepools.yaml")
        assert obj["spec"]["template"]["spec"]["nodeClassRef"] == {
            "group": "karpenter.k8s.aws",
            "kind": "EC2NodeClass",
            "name": obj["metadata"]["name"],
        }
    for obj in node_classes.values():
        validate_custom_object(obj, "karpenter", "karpenter.k8s.aws_ec2nodeclasses.yaml")


def test_a_misspelled_field_fails_the_crd_schema(dev: Plan) -> None:
    import jsonschema

    obj = copy.deepcopy(objects(dev, NODE_CLASS)["l4"])
    obj["spec"]["metadataOption"] = obj["spec"].pop("metadataOptions")
    with pytest.raises(jsonschema.ValidationError, match="metadataOption"):
        validate_custom_object(obj, "karpenter", "karpenter.k8s.aws_ec2nodeclasses.yaml")


def test_node_pools_launch_only_the_pools_type_and_capacity_up_to_max_nodes(dev: Plan, prod: Plan) -> None:
    def launches(plan: Plan, pool: str) -> tuple[dict[str, list[str]], Obj]:
        spec = objects(plan, NODE_POOL)[pool]["spec"]
        requirements = {r["key"]: r["values"] for r in spec["template"]["spec"]["requirements"]}
        return requirements, spec["limits"]

    requirements, limits = launches(dev, "l4")
    assert requirements == {
        "node.kubernetes.io/instance-type": ["g6.xlarge"],
        "karpenter.sh/capacity-type": ["spot"],
    }
    assert limits == {"nvidia.com/gpu": 4}  # max_nodes 4, one L4 each
    requirements, limits = launches(prod, "h100")
    assert requirements["node.kubernetes.io/instance-type"] == ["p5.48xlarge"]
    assert requirements["karpenter.sh/capacity-type"] == ["on-demand"]
    assert limits == {"nvidia.com/gpu": 32}  # max_nodes 4, eight H100 each


@pytest.mark.parametrize("kind", ["batch/v1:Job", "apps/v1:Deployment"])
def test_the_workloads_pods_fit_the_nodes_karpenter_launches(dev: Plan, kind: str) -> None:
    # A pending pod makes Karpenter launch a node only if some NodePool's nodes would carry its selected
    # labels and every taint on them is tolerated.
    template = objects(dev, NODE_POOL)["l4"]["spec"]["template"]
    pod = pod_spec(dev, kind)
    assert pod["nodeSelector"].items() <= template["metadata"]["labels"].items()
    for taint in template["spec"]["taints"]:
        assert any(
            t["key"] == taint["key"]
            and t.get("effect") in (None, taint["effect"])
            and (t["operator"] == "Exists" or t.get("value") == taint["value"])
            for t in pod["tolerations"]
        ), taint


def test_karpenter_nodes_are_hardened_like_the_managed_ones(dev: Plan) -> None:
    spec = objects(dev, NODE_CLASS)["l4"]["spec"]
    assert spec["metadataOptions"]["httpTokens"] == "required"
    assert spec["metadataOptions"]["httpPutResponseHopLimit"] == 1
    assert spec["associatePublicIPAddress"] is False
    (root,) = spec["blockDeviceMappings"]
    assert root["rootVolume"] is True
    assert root["ebs"]["encrypted"] is True
    assert root["ebs"]["volumeType"] == "gp3"
    assert root["ebs"]["kmsKeyID"] == only(dev, "aws:kms/key:Key").outputs["arn"]
    assert root["ebs"]["volumeSize"] == "200Gi"
    assert spec["amiSelectorTerms"] == [{"alias": "al2023@latest"}]
    role = only(dev, "aws:iam/role:Role", "karpenter-nodes")
    assert spec["role"] == role.outputs["name"]
    assert {t["id"] for t in spec["subnetSelectorTerms"]} == {
        s.outputs["id"] for s in dev.of_type("aws:ec2/subnet:Subnet") if "private" in s.name
    }
    cluster = only(dev, "aws:eks/cluster:Cluster")
    assert spec["securityGroupSelectorTerms"] == [
        {"id": cluster.outputs["vpcConfig"]["clusterSecurityGroupId"]}
    ]
    assert spec["tags"]["lepton:site"] == "aws-usw2"


def test_the_prod_pools_pin_their_ami_release(prod: Plan) -> None:
    # "Setting the version to latest will result in drift when a new AMI is released. This is not
    # recommended for production" (Karpenter v1.14 docs, amiSelectorTerms).
    for obj in objects(prod, NODE_CLASS).values():
        assert obj["spec"]["amiSelectorTerms"] == [{"alias": "al2023@v20260724"}]


def test_gpu_nodes_go_only_when_empty(dev: Plan) -> None:
    spec = objects(dev, NODE_POOL)["l4"]["spec"]
    assert spec["disruption"]["consolidationPolicy"] == "WhenEmpty"
    # Karpenter's default expireAfter (720h) would replace a node under a running job after 30 days.
    assert spec["template"]["spec"]["expireAfter"] == "Never"
    assert {"nodes": "0", "reasons": ["Drifted"]} in spec["disruption"]["budgets"]


@pytest.mark.parametrize("stack", ["aws-dev", "aws-prod-k8s"])
def test_the_cel_rules_of_the_crds_hold(stack: str) -> None:
    # CEL (x-kubernetes-validations) is not JSON Schema: the rules our objects could break, by hand.
    for obj in objects(stack_plan(stack), NODE_CLASS).values():
        spec = obj["spec"]
        assert ("role" in spec) != ("instanceProfile" in spec)
        (term,) = spec["amiSelectorTerms"]  # an alias excludes every other term
        assert set(term) == {"alias"} and term["alias"].split("@")[0] == "al2023"
        assert not {"eks:eks-cluster-name", "karpenter.sh/nodepool"} & set(spec["tags"])
        assert not any(k.startswith("kubernetes.io/cluster") for k in spec["tags"])
        nics = spec.get("networkInterfaces", [])
        if nics:
            assert {"networkCardIndex": 0, "deviceIndex": 0, "interfaceType": "interface"} in nics
            slots = [(n["networkCardIndex"], n["deviceIndex"]) for n in nics]
            assert len(slots) == len(set(slots))
            efa_cards = [n["networkCardIndex"] for n in nics if n["interfaceType"] == "efa-only"]
            assert len(efa_cards) == len(set(efa_cards))  # at most one efa-only per card
    for obj in objects(stack_plan(stack), NODE_POOL).values():
        for key in obj["spec"]["template"]["metadata"]["labels"]:
            domain = key.split("/")[0]
            assert (
                not domain.endswith(("karpenter.sh", "karpenter.k8s.aws")) and key != "kubernetes.io/hostname"
            )


def test_karpenter_charts_are_pinned_crds_first_and_the_controller_runs_on_the_system_pool(dev: Plan) -> None:
    crds, controller = release(dev, "karpenter-crd"), release(dev, "karpenter")
    assert crds.inputs["chart"] == "oci://public.ecr.aws/karpenter/karpenter-crd"
    assert controller.inputs["chart"] == "oci://public.ecr.aws/karpenter/karpenter"
    assert crds.inputs["version"] == controller.inputs["version"] == "1.14.1"
    assert crds.urn in controller.dependencies
    # Helm never upgrades a chart's crds/: the CRD chart owns them (Karpenter upgrade guide).
    assert controller.inputs["skipCrds"] is True
    values = controller.inputs["values"]
    assert values["nodeSelector"] == {"lepton.ai/pool": "system"}
    assert values["settings"]["clusterName"] == only(dev, "aws:eks/cluster:Cluster").outputs["name"]
    assert values["settings"]["interruptionQueue"] == only(dev, "aws:sqs/queue:Queue").outputs["name"]
    role = only(dev, "aws:iam/role:Role", "karpenter-controller")
    assert values["serviceAccount"]["annotations"] == {"eks.amazonaws.com/role-arn": role.outputs["arn"]}
    for obj in (*dev.of_type(NODE_POOL), *dev.of_type(NODE_CLASS)):
        assert controller.urn in obj.dependencies


def test_every_karpenter_value_we_set_exists_in_the_chart(dev: Plan) -> None:
    values = release(dev, "karpenter").inputs["values"]
    assert (
        unknown_values(
            values, "karpenter", "chart-values.yaml", free_form=("nodeSelector", "serviceAccount.annotations")
        )
        == []
    )
    assert unknown_values({"setings": {"clusterName": "x"}}, "karpenter", "chart-values.yaml") == ["setings"]


def test_the_controller_role_is_for_kube_system_karpenter_only(dev: Plan) -> None:
    role = only(dev, "aws:iam/role:Role", "karpenter-controller")
    (trust,) = policy_json(role.inputs["assumeRolePolicy"])["Statement"]
    (subject,) = [v for k, v in trust["Condition"]["StringEquals"].items() if k.endswith(":sub")]
    assert subject == "system:serviceaccount:kube-system:karpenter"


def test_the_controller_acts_only_on_its_clusters_resources(dev: Plan) -> None:
    statements = {
        s["Sid"]: s
        for s in policy_json(
            only(dev, "aws:iam/rolePolicy:RolePolicy", "karpenter-controller").inputs["policy"]
        )["Statement"]
    }
    owned = "aws:ResourceTag/kubernetes.io/cluster/lepton-aws-usw2"
    assert statements["AllowScopedDeletion"]["Condition"]["StringEquals"] == {owned: "owned"}
    tagged = statements["AllowScopedEC2InstanceActionsWithTags"]["Condition"]["StringEquals"]
    assert tagged["aws:RequestTag/eks:eks-cluster-name"] == "lepton-aws-usw2"
    assert statements["AllowPassingInstanceRole"]["Resource"] == [
        only(dev, "aws:iam/role:Role", "karpenter-nodes").outputs["arn"]
    ]
    assert statements["AllowInterruptionQueueActions"]["Resource"] == [
        only(dev, "aws:sqs/queue:Queue").outputs["arn"]
    ]
    assert statements["AllowAPIServerEndpointDiscovery"]["Resource"] == [
        only(dev, "aws:eks/cluster:Cluster").outputs["arn"]
    ]
    # Karpenter troubleshooting: without the key, nodes with encrypted volumes "terminate almost immediately".
    key = statements["UseSiteKeyForNodeVolumesThroughEc2"]
    assert key["Resource"] == [only(dev, "aws:kms/key:Key").outputs["arn"]]
    assert key["Condition"] == {"StringEquals": {"kms:ViaService": "ec2.us-west-2.amazonaws.com"}}


def test_interruptions_reach_karpenter_over_an_encrypted_tls_only_queue(dev: Plan) -> None:
    queue = only(dev, "aws:sqs/queue:Queue")
    assert queue.inputs["messageRetentionSeconds"] == 300
    assert queue.inputs["sqsManagedSseEnabled"] is True
    statements = policy_json(only(dev, "aws:sqs/queuePolicy:QueuePolicy").inputs["policy"])["Statement"]
    allow, deny = statements
    assert allow["Principal"] == {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]}
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    patterns = {
        json.loads(rule.inputs["eventPattern"])["detail-type"][0]
        for rule in dev.of_type("aws:cloudwatch/eventRule:EventRule")
    }
    assert patterns == {
        "AWS Health Event",
        "EC2 Spot Instance Interruption Warning",
        "EC2 Instance Rebalance Recommendation",
        "EC2 Instance State-change Notification",
        "EC2 Capacity Reservation Instance Interruption Warning",
    }
    for target in dev.of_type("aws:cloudwatch/eventTarget:EventTarget"):
        assert target.inputs["arn"] == queue.outputs["arn"]


def test_karpenter_nodes_join_through_their_roles_access_entry_before_any_launch(dev: Plan) -> None:
    role = only(dev, "aws:iam/role:Role", "karpenter-nodes")
    entry = only(dev, "aws:eks/accessEntry:AccessEntry", "karpenter-nodes")
    assert entry.inputs["type"] == "EC2_LINUX"
    assert entry.inputs["principalArn"] == role.outputs["arn"]
    assert attached_policies(dev, "karpenter-nodes") == {
        "AmazonEKSWorkerNodePolicy",
        "AmazonEKS_CNI_Policy",
        "AmazonEC2ContainerRegistryPullOnly",
    }
    node_class = next(iter(dev.of_type(NODE_CLASS)))
    assert entry.urn in node_class.dependencies


def test_a_pool_with_min_nodes_keeps_them_in_a_fixed_node_group_and_karpenter_adds_the_rest() -> None:
    plan = config_plan(with_pool(min_nodes=1, max_nodes=4))
    group = only(plan, "aws:eks/nodeGroup:NodeGroup", "l4-baseline")
    assert group.inputs["scalingConfig"] == {"minSize": 1, "maxSize": 1, "desiredSize": 1}
    assert group.inputs["capacityType"] == "SPOT"
    assert group.inputs["amiType"] == "AL2023_x86_64_NVIDIA"
    assert group.inputs["labels"] == {"lepton.ai/accelerator": "L4", "lepton.ai/pool": "l4"}
    assert group.inputs["taints"] == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}]
    assert objects(plan, NODE_POOL)["l4"]["spec"]["limits"] == {"nvidia.com/gpu": 3}


def test_a_pool_of_fixed_size_needs_no_karpenter() -> None:
    plan = config_plan(with_pool(min_nodes=2, max_nodes=2))
    assert only(plan, "aws:eks/nodeGroup:NodeGroup", "l4-baseline").inputs["scalingConfig"]["minSize"] == 2
    assert not plan.of_type(NODE_POOL)
    assert not plan.of_type("aws:sqs/queue:Queue")


def test_a_pool_on_capacity_reservations_launches_only_into_them() -> None:
    plan = config_plan(
        with_pool(
            accelerator="H100",
            instance_type="p5.48xlarge",
            spot=False,
            capacity_reservation_ids=["cr-0123456789abcdef0"],
        )
    )
    node_class = objects(plan, NODE_CLASS)["l4"]
    assert node_class["spec"]["capacityReservationSelectorTerms"] == [{"id": "cr-0123456789abcdef0"}]
    validate_custom_object(node_class, "karpenter", "karpenter.k8s.aws_ec2nodeclasses.yaml")
    requirements = objects(plan, NODE_POOL)["l4"]["spec"]["template"]["spec"]["requirements"]
    assert {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["reserved"]} in requirements


@pytest.mark.parametrize(
    ("changes", "path", "says"),
    [
        ({"capacity_reservation_ids": ["cr-0123456789abcdef0"]}, "spot", "on-demand"),
        (
            {"spot": False, "min_nodes": 1, "capacity_reservation_ids": ["cr-0123456789abcdef0"]},
            "min_nodes",
            "grows from zero",
        ),
        ({"capacity_reservation_ids": ["ODCR-1"]}, "capacity_reservation_ids", "pattern"),
    ],
)
def test_reservations_that_cannot_launch_are_refused(changes: dict[str, Any], path: str, says: str) -> None:
    issues = config_problems(with_pool(**changes))
    assert any(p.startswith(f"sites[0].gpu_pools[0].{path}") and says in m for p, m in issues), issues


def test_plan_manifests_include_the_node_classes(dev: Plan, tmp_path: Path) -> None:
    # A kind with a digit (EC2NodeClass) was once left out of `lepton-infra plan --manifests`.
    kinds = {
        doc["kind"] for path in write_manifests(dev, tmp_path) for doc in yaml.safe_load_all(path.read_text())
    }
    assert {"NodePool", "EC2NodeClass"} <= kinds
