"""Each fixture's baseline passes every policy; each one-field mutation fails exactly its policy."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from policy_fixtures import FIXTURES, Case, cases, config_of, fixture_files, load, plan

from lepton_infra.plan.evaluate import evaluate_plan
from lepton_infra.plan.model import Plan, PlanResource
from lepton_infra.policies.config import PackConfig
from lepton_infra.policies.registry import all_policies

SPECS = all_policies()
# The fixtures' images come from this registry; no ECR repository in these plans says it is ours.
CONFIG = PackConfig(allowed_registries=["123456789012.dkr.ecr.us-west-2.amazonaws.com"])


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_compliant_baseline_passes_every_policy(path: Path) -> None:
    data = load(path)
    violations = evaluate_plan(plan(data), SPECS, config_of(data))
    assert [(v.policy, v.urn, v.message) for v in violations] == []


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.id)
def test_one_field_mutation_fails_with_the_expected_message(case: Case) -> None:
    data = load(FIXTURES / case.file)
    violations = evaluate_plan(plan(data, case), SPECS, config_of(data))
    assert {v.policy for v in violations} == case.policies, [(v.policy, v.message) for v in violations]
    assert any(case.expect in v.message for v in violations), [v.message for v in violations]


def test_every_policy_has_a_failing_case() -> None:
    covered = {c.policy for c in cases()}
    assert sorted(s.name for s in SPECS if s.name not in covered) == []


WORKLOAD_PATHS = {
    "kubernetes:core/v1:Pod": (),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template"),
    "kubernetes:batch/v1:Job": ("spec", "template"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template"),
}


def _workload(resource_type: str, privileged_init: bool, probes: bool) -> Plan:
    deployment = load(FIXTURES / "kubernetes" / "deployment.yaml")["resources"][0]["inputs"]
    template = copy.deepcopy(deployment["spec"]["template"])
    if privileged_init:
        template["spec"]["initContainers"][0]["securityContext"]["privileged"] = True
    if not probes:
        for container in template["spec"]["containers"]:
            del container["livenessProbe"], container["readinessProbe"]
    inputs: dict[str, Any] = {}
    node = inputs
    for step in WORKLOAD_PATHS[resource_type]:
        node = node.setdefault(step, {})
    node.update(template)
    # A Pod's metadata is its template's; every kind carries the required label on the object itself.
    metadata = inputs.setdefault("metadata", {})
    metadata.setdefault("labels", {})["app.kubernetes.io/name"] = "w"
    metadata["namespace"] = "ml"
    pod_spec = node["spec"]
    pod_spec.update(serviceAccountName="w", automountServiceAccountToken=False)
    if "Job" in resource_type:
        job = inputs["spec"]["jobTemplate"]["spec"] if "CronJob" in resource_type else inputs["spec"]
        job.update(backoffLimit=2, activeDeadlineSeconds=600)
    urn = f"urn:pulumi:test::lepton-infra::{resource_type}::w"
    policy_type = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
    network_policy = {"metadata": {"name": "deny", "namespace": "ml"}, "spec": {"podSelector": {}}}
    return Plan(
        stack="test",
        resources=[
            PlanResource(urn=urn, type=resource_type, name="w", custom=True, inputs=inputs),
            PlanResource(
                urn=f"urn:pulumi:test::lepton-infra::{policy_type}::deny",
                type=policy_type,
                name="deny",
                custom=True,
                inputs=network_policy,
            ),
        ],
    )


@pytest.mark.parametrize("resource_type", sorted(WORKLOAD_PATHS))
def test_every_workload_kind_has_its_pod_spec_and_init_containers_checked(resource_type: str) -> None:
    assert evaluate_plan(_workload(resource_type, privileged_init=False, probes=True), SPECS, CONFIG) == []
    violations = evaluate_plan(_workload(resource_type, privileged_init=True, probes=True), SPECS, CONFIG)
    assert [(v.policy, v.message) for v in violations] == [
        ("kubernetes-pod-disallow-privileged", "init container 'fetch' runs privileged")
    ]


@pytest.mark.parametrize("resource_type", sorted(WORKLOAD_PATHS))
def test_probes_are_required_of_serving_kinds_but_not_of_jobs(resource_type: str) -> None:
    violations = evaluate_plan(_workload(resource_type, privileged_init=False, probes=False), SPECS, CONFIG)
    expected = set() if "Job" in resource_type else {"kubernetes-workload-probes"}
    assert {v.policy for v in violations} == expected
