"""Every pod a plan can carry is judged: built-in kinds in every apiVersion, pulumi-kubernetes' *Patch and
*List types, and custom resources that embed pod templates (issue 16). An unknown value in one container
never downgrades another's blocking finding, and a malformed pod spec is a finding, not silence."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from policy_fixtures import FIXTURES, load

from lepton_infra.plan.evaluate import evaluate_plan
from lepton_infra.plan.model import Plan, PlanResource, Violation
from lepton_infra.policies.config import PackConfig
from lepton_infra.policies.kubernetes.pods import discover
from lepton_infra.policies.registry import all_policies

SPECS = all_policies()
CONFIG = PackConfig(allowed_registries=["123456789012.dkr.ecr.us-west-2.amazonaws.com"])
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def _template() -> dict[str, Any]:
    deployment = load(FIXTURES / "kubernetes" / "deployment.yaml")["resources"][0]["inputs"]
    template: dict[str, Any] = copy.deepcopy(deployment["spec"]["template"])
    return template


def _privileged(template: dict[str, Any]) -> dict[str, Any]:
    template = copy.deepcopy(template)
    template["spec"]["containers"][0]["securityContext"]["privileged"] = True
    return template


def _plan(resource_type: str, inputs: dict[str, Any]) -> Plan:
    urn = f"urn:pulumi:test::lepton-infra::{resource_type}::w"
    return Plan("test", [PlanResource(urn=urn, type=resource_type, name="w", custom=True, inputs=inputs)])


def _privileged_findings(resource_type: str, inputs: dict[str, Any]) -> list[Violation]:
    found = evaluate_plan(_plan(resource_type, inputs), SPECS, CONFIG)
    return [v for v in found if v.policy == "kubernetes-pod-disallow-privileged"]


# Removed beta apiVersions still carry pods (and are findings of their own: see below).
@pytest.mark.parametrize(
    ("resource_type", "path"),
    [
        ("kubernetes:apps/v1beta1:Deployment", ("spec", "template")),
        ("kubernetes:apps/v1beta2:StatefulSet", ("spec", "template")),
        ("kubernetes:extensions/v1beta1:DaemonSet", ("spec", "template")),
        ("kubernetes:extensions/v1beta1:ReplicaSet", ("spec", "template")),
        ("kubernetes:core/v1:ReplicationController", ("spec", "template")),
        ("kubernetes:core/v1:PodTemplate", ("template",)),
        ("kubernetes:batch/v1beta1:CronJob", ("spec", "jobTemplate", "spec", "template")),
    ],
)
def test_every_kind_in_every_api_version_has_its_pods_judged(
    resource_type: str, path: tuple[str, ...]
) -> None:
    inputs: dict[str, Any] = {}
    node = inputs
    for step in path[:-1]:
        node = node.setdefault(step, {})
    node[path[-1]] = _privileged(_template())
    (finding,) = _privileged_findings(resource_type, inputs)
    assert finding.message == "container 'server' runs privileged" and finding.enforcement == "mandatory"


@pytest.mark.parametrize(
    "resource_type",
    [
        "kubernetes:apps/v1beta1:Deployment",
        "kubernetes:batch/v1beta1:CronJob",
        "kubernetes:extensions/v1beta1:Ingress",
    ],
)
def test_an_object_in_a_removed_api_version_is_a_blocking_finding(resource_type: str) -> None:
    found = evaluate_plan(_plan(resource_type, {}), SPECS, CONFIG)
    (removed,) = [v for v in found if v.policy == "kubernetes-api-version-not-removed"]
    assert removed.enforcement == "mandatory" and "was removed in Kubernetes" in removed.message


def test_a_patch_is_judged_on_the_values_it_sets_and_not_on_what_it_leaves_alone() -> None:
    # pulumi-kubernetes 4.x ships *Patch types: a server-side apply patch leaves absent fields as they are.
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "server", "image": "nginx:1.27"}]}}}}
    found = evaluate_plan(_plan("kubernetes:apps/v1:DeploymentPatch", patch), SPECS, CONFIG)
    assert {v.policy for v in found} == {
        "kubernetes-pod-image-pinned-by-digest",
        "kubernetes-pod-image-allowed-registry",
    }
    patch["spec"]["template"]["spec"]["containers"][0]["securityContext"] = {"privileged": True}
    assert _privileged_findings("kubernetes:apps/v1:DeploymentPatch", patch)


def test_a_list_type_has_each_item_judged() -> None:
    item = {"metadata": {"name": "a"}, "spec": {"template": _privileged(_template())}}
    (finding,) = _privileged_findings("kubernetes:apps/v1:DeploymentList", {"items": [item]})
    assert finding.message == "items[0]: container 'server' runs privileged"


# Pod template paths of the operators' custom resources (/tmp/crds/custom-pod-templates.md: JobSet
# v0.12.0, LeaderWorkerSet v0.10.0, Kubeflow trainer v1.9.4, KubeRay v1.7.0), found without a table.
CUSTOM_RESOURCES = {
    "kubernetes:jobset.x-k8s.io/v1alpha2:JobSet": (
        lambda t: {"spec": {"replicatedJobs": [{"name": "w", "template": {"spec": {"template": t}}}]}},
        "spec.replicatedJobs[0].template.spec.template",
    ),
    "kubernetes:leaderworkerset.x-k8s.io/v1:LeaderWorkerSet": (
        lambda t: {"spec": {"leaderWorkerTemplate": {"size": 2, "workerTemplate": t}}},
        "spec.leaderWorkerTemplate.workerTemplate",
    ),
    "kubernetes:kubeflow.org/v1:PyTorchJob": (
        lambda t: {"spec": {"pytorchReplicaSpecs": {"Master": {"replicas": 1, "template": t}}}},
        "spec.pytorchReplicaSpecs.Master.template",
    ),
    "kubernetes:ray.io/v1:RayCluster": (
        lambda t: {
            "spec": {"headGroupSpec": {"template": _template()}, "workerGroupSpecs": [{"template": t}]}
        },
        "spec.workerGroupSpecs[0].template",
    ),
    "kubernetes:ray.io/v1:RayJob": (
        lambda t: {"spec": {"entrypoint": "python x.py", "submitterPodTemplate": t}},
        "spec.submitterPodTemplate",
    ),
}


@pytest.mark.parametrize("resource_type", sorted(CUSTOM_RESOURCES))
def test_custom_resources_that_embed_pod_templates_have_them_judged(resource_type: str) -> None:
    build, where = CUSTOM_RESOURCES[resource_type]
    (finding,) = _privileged_findings(resource_type, build(_privileged(_template())))
    assert finding.message == f"{where}: container 'server' runs privileged"
    assert evaluate_plan(_plan(resource_type, build(_template())), SPECS, CONFIG) == [] or all(
        v.policy != "kubernetes-pod-disallow-privileged"
        for v in evaluate_plan(_plan(resource_type, build(_template())), SPECS, CONFIG)
    )


def test_a_ray_job_has_its_cluster_and_submitter_templates_found() -> None:
    job = {
        "spec": {
            "rayClusterSpec": {
                "headGroupSpec": {"template": _template()},
                "workerGroupSpecs": [{"template": _template()}],
            },
            "submitterPodTemplate": _template(),
        }
    }
    where = sorted(p.where for p in discover("kubernetes:ray.io/v1:RayJob", job))
    assert where == [
        "spec.rayClusterSpec.headGroupSpec.template",
        "spec.rayClusterSpec.workerGroupSpecs[0].template",
        "spec.submitterPodTemplate",
    ]


def test_objects_that_carry_no_pod_are_not_walked_as_if_they_did() -> None:
    assert (
        discover(
            "kubernetes:karpenter.sh/v1:NodePool", {"spec": {"template": {"spec": {"requirements": []}}}}
        )
        == ()
    )
    assert discover("kubernetes:core/v1:ConfigMap", {"data": {"containers": "[]"}}) == ()


def test_an_unknown_value_in_one_container_does_not_downgrade_another_containers_finding() -> None:
    template = _privileged(_template())
    template["spec"]["initContainers"][0]["securityContext"]["privileged"] = (
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7"
    )
    found = _privileged_findings("kubernetes:apps/v1:Deployment", {"spec": {"template": template}})
    assert sorted((v.enforcement, v.message.split(": ", 1)[-1]) for v in found) == [
        ("advisory", "init container 'fetch': securityContext.privileged can't be known during preview"),
        ("mandatory", "container 'server' runs privileged"),
    ]


def test_an_unknown_image_is_undecided_for_that_container_alone() -> None:
    template = _template()
    template["spec"]["initContainers"][0]["image"] = UNKNOWN
    template["spec"]["containers"][0]["image"] = "nginx:latest"
    found = evaluate_plan(
        _plan("kubernetes:apps/v1:Deployment", {"spec": {"template": template}}), SPECS, CONFIG
    )
    digest = sorted(v.message for v in found if v.policy == "kubernetes-pod-image-pinned-by-digest")
    assert (
        digest[0].startswith("can't run policy")
        and "init container 'fetch': image can't be known" in digest[0]
    )
    assert digest[1] == "container 'server' image 'nginx:latest' is not pinned by digest"
    registry = sorted(
        (v.enforcement, v.message) for v in found if v.policy == "kubernetes-pod-image-allowed-registry"
    )
    assert registry[0][0] == "advisory" and "init container 'fetch': image can't be known" in registry[0][1]
    assert registry[1][0] == "mandatory" and registry[1][1].startswith(
        "container 'server' pulls from docker.io"
    )


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ({"containers": "app"}, "spec.containers is not a list"),
        ({"containers": [["app"]]}, "spec.containers[0] is not an object"),
        (
            {"containers": [{"name": "a", "securityContext": "privileged"}]},
            "spec.containers[0].securityContext is not an object",
        ),
        ({}, "spec.containers is missing"),
        ({"containers": [], "volumes": {"a": 1}}, "spec.volumes is not a list"),
    ],
)
def test_a_malformed_pod_spec_is_a_blocking_finding(spec: dict[str, Any], problem: str) -> None:
    found = evaluate_plan(_plan("kubernetes:core/v1:Pod", {"spec": spec}), SPECS, CONFIG)
    malformed = [v for v in found if v.policy == "kubernetes-pod-spec-well-formed"]
    assert [(v.enforcement, v.message) for v in malformed] == [
        ("mandatory", f"malformed pod spec: {problem}")
    ]


def test_a_deployment_without_a_template_is_malformed() -> None:
    found = evaluate_plan(_plan("kubernetes:apps/v1:Deployment", {"spec": {"replicas": 2}}), SPECS, CONFIG)
    assert any(v.message == "malformed pod spec: spec.template is missing" for v in found)


def test_a_rule_that_meets_a_shape_it_cannot_read_reports_the_resource_instead_of_passing_it() -> None:
    template = _template()
    template["spec"]["nodeSelector"] = "gpu"  # not an object: the GPU scheduling rule cannot read it
    found = evaluate_plan(
        _plan("kubernetes:apps/v1:Deployment", {"spec": {"template": template}}), SPECS, CONFIG
    )
    assert any(
        v.message.startswith("cannot read the resource") and v.enforcement == "advisory" for v in found
    )
