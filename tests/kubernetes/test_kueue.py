"""Admission wiring: Kueue per site, a flavor per GPU pool, a queue per team, and every workload queued.

What a user relies on: a job lands in its team's queue and is charged to the pool its pods select, at its
team's priority (inference above all training); Kueue starts it all or nothing; and `pulumi up` neither
waits on a queued (suspended) Job nor resumes one Kueue holds.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from kueue_schema import SCHEMAS
from manifest_helpers import Manifests, Obj, pod_spec
from plan_helpers import config_plan, only, stack_config, whole_config, whole_plan, without_teams

from lepton_infra.blueprint import PlatformSpec
from lepton_infra.blueprint.queueing import site_queues
from lepton_infra.components.kubernetes.kueue import (
    KUEUE_REPOSITORY,
    KUEUE_VERSION,
    PRIORITY_CLASS_LABEL,
    QUEUE_LABEL,
)

RELEASE = "kubernetes:helm.sh/v3:Release"
ACCEL = "lepton.ai/accelerator"
# The json tags of Kueue's v1beta2 Configuration (apis/config/v1beta2/configuration_types.go, v0.19.2).
CONFIGURATION_KEYS = {
    "apiVersion", "kind", "namespace", "manageJobsWithoutQueueName", "managedJobsNamespaceSelector",
    "internalCertManagement", "waitForPodsReady", "clientConnection", "integrations", "multiKueue",
    "fairSharing", "admissionFairSharing", "resources", "featureGates", "objectRetentionPolicies",
    "visibilityServer", "webhook", "leaderElection", "metrics", "health", "pprofBindAddress", "controller",
    "tls",
}  # fmt: skip
WAIT_FOR_PODS_READY_KEYS = {"timeout", "blockAdmission", "requeuingStrategy", "recoveryTimeout"}


@pytest.fixture(scope="module")
def aws_prod() -> Manifests:
    return Manifests(whole_plan("aws-prod"))


def kueue_release(plan_name: str) -> Any:
    return only(whole_plan(plan_name), RELEASE, "kueue")


def manager_config(plan_name: str) -> dict[str, Any]:
    values = kueue_release(plan_name).inputs["values"]
    config: dict[str, Any] = yaml.safe_load(values["managerConfig"]["controllerManagerConfigYaml"])
    return config


def test_kueue_comes_from_its_pinned_oci_chart_with_the_release_image() -> None:
    release = kueue_release("aws-prod")
    assert release.inputs["chart"] == f"{KUEUE_REPOSITORY}/kueue"
    assert "repositoryOpts" not in release.inputs
    chart = yaml.safe_load((SCHEMAS / "Chart.yaml").read_text())
    assert release.inputs["version"] == chart["version"] == KUEUE_VERSION  # the CRDs we validate against
    image = release.inputs["values"]["controllerManager"]["manager"]["image"]
    assert image == {
        "repository": "registry.k8s.io/kueue/kueue",
        "tag": "v0.19.2",
        "pullPolicy": "IfNotPresent",
    }
    assert release.inputs["namespace"] == "kueue-system"


def test_the_manager_starts_jobs_all_or_nothing_and_keeps_the_chart_s_ports() -> None:
    config = manager_config("aws-prod")
    assert set(config) <= CONFIGURATION_KEYS
    wait = config["waitForPodsReady"]
    # v1beta2 has no `enable`: the block turns it on; an unknown key would fail the manager's decoding.
    assert set(wait) <= WAIT_FOR_PODS_READY_KEYS and wait["timeout"] == "20m"
    assert wait["blockAdmission"] is False  # inference keeps scaling while a big job waits for nodes
    chart = yaml.safe_load((SCHEMAS / "chart-values.yaml").read_text())
    defaults = yaml.safe_load(chart["managerConfig"]["controllerManagerConfigYaml"])
    for key in ("health", "metrics", "webhook", "leaderElection"):
        assert config[key] == defaults[key], key  # the chart's Services and probes point at these


def test_kueue_manages_every_job_of_the_team_namespaces_and_nothing_else() -> None:
    config = manager_config("aws-prod")
    assert config["manageJobsWithoutQueueName"] is True
    [expression] = config["managedJobsNamespaceSelector"]["matchExpressions"]
    assert expression == {
        "key": "kubernetes.io/metadata.name",
        "operator": "In",
        "values": ["ml", "research"],
    }
    assert {"batch/job", "deployment"} <= set(config["integrations"]["frameworks"])
    # GPUs are the teams' quota; CPU and memory are not declared, so they must not block admission.
    assert config["resources"] == {"quotaCheckStrategy": "IgnoreUndeclared"}


def local_queue_of(manifests: Manifests, workload: Obj) -> Obj:
    name, namespace = workload["metadata"]["labels"][QUEUE_LABEL], workload["metadata"]["namespace"]
    [queue] = [
        q
        for q in manifests.all("LocalQueue")
        if q["metadata"] == q["metadata"] | {"name": name, "namespace": namespace}
    ]
    return queue


def test_a_training_job_is_queued_in_its_team_s_queue_at_the_team_s_training_priority(
    aws_prod: Manifests,
) -> None:
    job = aws_prod.one("Job", "pretrain")
    queue = aws_prod.one("ClusterQueue", local_queue_of(aws_prod, job)["spec"]["clusterQueue"])
    [selector] = queue["spec"]["namespaceSelector"]["matchExpressions"]
    assert job["metadata"]["namespace"] in selector["values"]
    priority = aws_prod.one("WorkloadPriorityClass", job["metadata"]["labels"][PRIORITY_CLASS_LABEL])
    spec = PlatformSpec.model_validate(stack_config("aws-prod"))
    assert priority["value"] == next(t.priority for t in spec.teams if t.name == "ml-platform")


def test_inference_ranks_above_every_training_job_of_every_team(aws_prod: Manifests) -> None:
    serve = aws_prod.one("Deployment", "serve")
    local_queue_of(aws_prod, serve)
    classes = {c["metadata"]["name"]: c["value"] for c in aws_prod.all("WorkloadPriorityClass")}
    serving = classes[serve["metadata"]["labels"][PRIORITY_CLASS_LABEL]]
    training = [v for name, v in classes.items() if name.endswith("-training")]
    assert serving > max(training)
    inference = [v for name, v in classes.items() if name.endswith("-inference")]
    assert min(inference) > max(training)


def flavor_for(manifests: Manifests, workload: Obj) -> Obj:
    """The flavor Kueue charges the workload to: the one whose node labels its pods select."""
    selector = pod_spec(workload)["nodeSelector"]
    matches = [
        f for f in manifests.all("ResourceFlavor") if f["spec"]["nodeLabels"].items() <= selector.items()
    ]
    assert len(matches) == 1, [f["metadata"]["name"] for f in matches]
    return matches[0]


@pytest.mark.parametrize("stack", ["aws-prod", "azure-prod", "alicloud-prod", "existing-cluster"])
def test_each_workload_is_charged_to_its_pool_s_flavor_and_tolerates_its_taints(stack: str) -> None:
    manifests = Manifests(whole_plan(stack))
    for workload in (*manifests.all("Job"), *manifests.all("Deployment")):
        flavor = flavor_for(manifests, workload)
        tolerations = pod_spec(workload).get("tolerations", [])
        for taint in flavor["spec"]["nodeTaints"]:
            # Kueue admits a workload to a flavor only if its pods tolerate the flavor's taints.
            assert any(_tolerates(t, taint) for t in tolerations), (workload["metadata"]["name"], taint)
        queue = aws_queue = manifests.one(
            "ClusterQueue", local_queue_of(manifests, workload)["spec"]["clusterQueue"]
        )
        flavors = [f["name"] for f in queue["spec"]["resourceGroups"][0]["flavors"]]
        assert flavor["metadata"]["name"] in flavors, aws_queue["metadata"]["name"]


def _tolerates(toleration: Obj, taint: Obj) -> bool:
    if toleration.get("key") != taint["key"] or toleration.get("effect") not in (None, taint["effect"]):
        return False
    return toleration.get("operator") == "Exists" or toleration.get("value") == taint.get("value")


def test_flavors_carry_the_labels_and_taints_the_cloud_puts_on_the_pool_s_nodes() -> None:
    plan = whole_plan("aws-prod")
    manifests = Manifests(plan)
    effects = {
        "NO_SCHEDULE": "NoSchedule",
        "NO_EXECUTE": "NoExecute",
        "PREFER_NO_SCHEDULE": "PreferNoSchedule",
    }
    for group in plan.of_type("aws:eks/nodeGroup:NodeGroup"):
        if not group.inputs.get("taints"):
            continue  # the system pool
        pool = group.inputs["labels"]["lepton.ai/pool"]
        flavor = manifests.one("ResourceFlavor", pool)
        assert flavor["spec"]["nodeLabels"].items() <= group.inputs["labels"].items()
        taints = [{**t, "effect": effects[t["effect"]]} for t in group.inputs["taints"]]
        assert sorted(flavor["spec"]["nodeTaints"], key=str) == sorted(taints, key=str)


def test_aks_spot_pools_flavor_carries_the_spot_taint_aks_adds() -> None:
    """AKS taints every spot node `kubernetes.azure.com/scalesetpriority=spot:NoSchedule` (FIELD-NOTES)."""
    flavor = Manifests(whole_plan("azure-prod")).one("ResourceFlavor", "t4")
    assert {
        "key": "kubernetes.azure.com/scalesetpriority",
        "value": "spot",
        "effect": "NoSchedule",
    } in flavor["spec"]["nodeTaints"]


def test_an_existing_cluster_s_flavors_are_the_pools_the_spec_describes(onprem: Manifests) -> None:
    spec = PlatformSpec.model_validate(stack_config("existing-cluster"))
    for pool in spec.sites[0].gpu_pools:
        flavor = onprem.one("ResourceFlavor", pool.name)
        assert flavor["spec"]["nodeLabels"] == pool.node_labels  # type: ignore[union-attr]
        assert flavor["spec"]["nodeTaints"] == [t.model_dump(exclude_none=True) for t in pool.taints]  # type: ignore[union-attr]


def test_cluster_queues_hold_the_teams_quotas_and_cohort(aws_prod: Manifests) -> None:
    spec = PlatformSpec.model_validate(stack_config("aws-prod"))
    for team in spec.teams:
        queue = aws_prod.one("ClusterQueue", team.name)
        assert queue["spec"]["cohortName"] == team.cohort
        by_flavor = {f["name"]: f["resources"][0] for f in queue["spec"]["resourceGroups"][0]["flavors"]}
        for quota in team.quotas:
            pools = aws_prod.all("ResourceFlavor")
            model = quota.accelerator.value
            [entry] = [
                by_flavor[f["metadata"]["name"]] for f in pools if f["metadata"]["labels"][ACCEL] == model
            ]
            assert entry["name"] == "nvidia.com/gpu"
            assert entry["nominalQuota"] == quota.gpus
            assert entry.get("lendingLimit") == quota.lending_limit_gpus
        # A team takes back what it lent; a borrowing team may preempt lower-priority borrowed training only.
        preemption = queue["spec"]["preemption"]
        assert preemption["reclaimWithinCohort"] == "Any"
        assert preemption["borrowWithinCohort"]["maxPriorityThreshold"] < min(
            c["value"]
            for c in aws_prod.all("WorkloadPriorityClass")
            if c["metadata"]["name"].endswith("-inference")
        )


def test_pulumi_leaves_suspend_to_kueue_and_waits_only_for_a_queued_job_to_exist() -> None:
    """Kueue's webhook creates a queued Job suspended and Kueue resumes it on admission (Kueue docs,
    tasks/run/jobs: no need to create it suspended); a Pulumi update that set `spec.suspend` would stop a
    running job or start one Kueue holds. An unqueued Job is awaited until started (`.status.startTime`),
    which a queued one may not reach for hours: `pulumi up` waits only for it to exist."""
    job = only(whole_plan("aws-prod"), "kubernetes:batch/v1:Job")
    assert "suspend" not in job.inputs["spec"]
    assert job.options["ignoreChanges"] == ["spec.suspend"]
    assert job.inputs["metadata"]["annotations"] == {"pulumi.com/waitFor": "jsonpath={.metadata.uid}"}


def test_an_unqueued_job_keeps_pulumi_s_default_behaviour() -> None:
    plan = config_plan(without_teams(whole_config("aws-prod")))
    job = only(plan, "kubernetes:batch/v1:Job")
    assert "ignoreChanges" not in job.options and QUEUE_LABEL not in job.inputs["metadata"]["labels"]
    assert job.inputs["metadata"]["annotations"] == {"pulumi.com/waitFor": "jsonpath={.status.startTime}"}
    assert not [r for r in plan.resources if "kueue" in r.type]


def test_workloads_wait_for_kueue_s_webhook_and_their_local_queue() -> None:
    """Created before Kueue's webhook runs, a Job would start unsuspended, outside its team's quota."""
    plan = whole_plan("aws-prod")
    release = kueue_release("aws-prod")
    local_queue = only(plan, "kubernetes:kueue.x-k8s.io/v1beta2:LocalQueue")
    for kind in ("lepton:kubernetes:TrainingJob", "lepton:kubernetes:InferenceService"):
        component = only(plan, kind)
        assert {release.urn, local_queue.urn} <= set(component.dependencies)


def test_a_team_s_quota_is_split_over_its_accelerator_s_pools_in_order() -> None:
    config = copy.deepcopy(stack_config("aws-prod"))
    pools = config["sites"][0]["gpu_pools"]
    pools.append(pools[0] | {"name": "h100-spot", "spot": True, "max_nodes": 2})  # 16 more H100
    config["teams"][1]["quotas"][0]["gpus"] = 24  # research: 24 over h100 (32) then h100-spot (16)
    queues = site_queues(PlatformSpec.model_validate(config), "aws-usw2")
    assert queues is not None
    research = next(t for t in queues.teams if t.team == "research")
    assert [(q.pool, q.nominal_gpus, q.lending_limit_gpus) for q in research.quotas if "h100" in q.pool] == [
        ("h100", 24, 8),
        ("h100-spot", 0, 0),
    ]
    assert queues.pool_max_gpus == {"h100": 32, "l4": 10, "h100-spot": 16}


def test_resources_a_queued_pod_requests_beyond_the_queues_gpus_do_not_block_its_admission(
    aws_prod: Manifests,
) -> None:
    """Kueue refuses a workload requesting a resource its ClusterQueue does not cover ("resource
    ephemeral-storage unavailable in ClusterQueue", kubernetes-sigs/kueue#4848) unless the configuration
    ignores undeclared resources. Training pods request CPU, memory and, for their scratch /tmp,
    ephemeral-storage; the queues cover GPUs alone."""
    covered = {
        resource
        for queue in aws_prod.all("ClusterQueue")
        for group in queue["spec"]["resourceGroups"]
        for resource in group["coveredResources"]
    }
    queued = [job for job in aws_prod.all("Job") if QUEUE_LABEL in job["metadata"].get("labels", {})]
    requested = {
        resource
        for job in queued
        for container in pod_spec(job)["containers"]
        for resource in container["resources"]["requests"]
    }
    assert queued and "ephemeral-storage" in requested
    uncovered = requested - covered
    assert uncovered and manager_config("aws-prod")["resources"] == {"quotaCheckStrategy": "IgnoreUndeclared"}
