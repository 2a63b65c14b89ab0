"""Every stack under stacks/ passes every mandatory policy; insecure variants of them fail the policies
they should (a component gone wrong is simulated by editing the recorded plan: the spec refuses such
config)."""

from __future__ import annotations

import copy

import pytest
from plan_helpers import CLOUD_STACKS, STACKS, layers_of, stack_plan

from lepton_infra.plan.evaluate import evaluate
from lepton_infra.plan.model import Plan, PlanResource
from lepton_infra.policies.config import PackConfig

CLUSTERS = {
    "aws:eks/cluster:Cluster": (
        "aws-eks-cluster-disallow-public-endpoint",
        {"vpcConfig": {"endpointPrivateAccess": True}},
    ),
    "azure-native:containerservice:ManagedCluster": (
        "azure-aks-cluster-disallow-public-endpoint",
        {"apiServerAccessProfile": {"enablePrivateCluster": False}},
    ),
    "alicloud:cs/managedKubernetes:ManagedKubernetes": (
        "alicloud-ack-cluster-disallow-public-endpoint",
        {"slbInternetEnabled": True},
    ),
}


@pytest.mark.parametrize("stack", STACKS)
def test_stack_passes_every_mandatory_policy(stack: str) -> None:
    blocking = [(v.policy, v.urn, v.message) for v in evaluate(stack_plan(stack)) if v.blocks]
    assert blocking == []


def _insecure(plan: Plan) -> tuple[Plan, set[str]]:
    """The plan with its first Deployment privileged and its cluster's API opened; the policies that fail."""
    resources: list[PlanResource] = []
    expected: set[str] = set()
    for r in plan.resources:
        inputs = copy.deepcopy(r.inputs)
        if r.type == "kubernetes:apps/v1:Deployment" and "kubernetes-pod-disallow-privileged" not in expected:
            inputs["spec"]["template"]["spec"]["containers"][0].setdefault("securityContext", {})[
                "privileged"
            ] = True
            expected.add("kubernetes-pod-disallow-privileged")
        if r.type in CLUSTERS:
            policy, change = CLUSTERS[r.type]
            inputs.update(change)
            expected.add(policy)
        resources.append(PlanResource(**{**r.__dict__, "inputs": inputs}))
    return Plan(stack=plan.stack, resources=resources), expected


@pytest.mark.parametrize("stack", STACKS)
def test_insecure_variant_of_stack_fails_the_expected_policies(stack: str) -> None:
    insecure, expected = _insecure(stack_plan(stack))
    assert expected, "the stack has neither a cluster nor a Deployment to make insecure"
    blocking = {v.policy for v in evaluate(insecure) if v.blocks}
    assert blocking == expected


# GPUs count where a stack can provision them: a cloud layer's node groups, a Kubernetes layer's Karpenter
# NodePools. Over budget, a platform is stopped by one of its stacks, and by nothing else.
@pytest.mark.parametrize("stack", [s for s in CLOUD_STACKS if s != "existing-cluster"])
def test_stack_over_a_one_gpu_budget_fails_the_gpu_budget(stack: str) -> None:
    blocking = [
        {v.policy for v in evaluate(stack_plan(layer), PackConfig(max_gpus_per_stack=1)) if v.blocks}
        for layer in layers_of(stack)
    ]
    assert set().union(*blocking) == {"governance-max-gpus-per-stack"}


BUCKET_RULES = {
    "aws-s3-bucket-access-logging",
    "aws-s3-bucket-encrypted-with-customer-key",
    "alicloud-oss-bucket-access-logging",
    "alicloud-oss-bucket-encrypted-with-customer-key",
}


@pytest.mark.parametrize("stack", ["aws-dev", "aws-prod", "alicloud-prod", "multicloud"])
def test_every_bucket_of_a_default_stack_logs_its_access_or_is_the_log_bucket_it_logs_into(
    stack: str,
) -> None:
    # Advisory findings included: the library's own stacks pass its own pack's bucket rules outright.
    found = [(v.policy, v.urn, v.message) for v in evaluate(stack_plan(stack)) if v.policy in BUCKET_RULES]
    assert found == []
