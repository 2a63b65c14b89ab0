"""The packs judge a user's containers exactly as ours: a vLLM server and a custom training image pass and
fail the same rules as our server and trainer (hardened pod, pinned digest, allowed registry, probes),
with nothing special-cased for either side."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from plan_helpers import stack_plan

from lepton_infra.plan.evaluate import evaluate_plan
from lepton_infra.plan.model import Plan, PlanResource
from lepton_infra.policies.registry import all_policies

SPECS = all_policies()
Mutation = Callable[[dict[str, Any]], None]


def _pod(inputs: dict[str, Any]) -> dict[str, Any]:
    pod: dict[str, Any] = inputs["spec"]["template"]["spec"]
    return pod


def _main(inputs: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = _pod(inputs)["containers"][0]
    return container


def _tag_only(inputs: dict[str, Any]) -> None:
    _main(inputs)["image"] = _main(inputs)["image"].split("@")[0]


def _public_registry(inputs: dict[str, Any]) -> None:
    _main(inputs)["image"] = "docker.io/" + _main(inputs)["image"].split("/", 1)[1]


def _privileged(inputs: dict[str, Any]) -> None:
    _main(inputs)["securityContext"]["privileged"] = True


def _writable_root(inputs: dict[str, Any]) -> None:
    _main(inputs)["securityContext"]["readOnlyRootFilesystem"] = False


def _root_user(inputs: dict[str, Any]) -> None:
    _pod(inputs)["securityContext"]["runAsNonRoot"] = False
    _pod(inputs)["securityContext"]["runAsUser"] = 0
    _main(inputs)["securityContext"]["runAsNonRoot"] = False
    _main(inputs)["securityContext"]["runAsUser"] = 0


def _capability(inputs: dict[str, Any]) -> None:
    _main(inputs)["securityContext"]["capabilities"] = {"add": ["SYS_ADMIN"]}


def _no_liveness(inputs: dict[str, Any]) -> None:
    del _main(inputs)["livenessProbe"]


def _no_limits(inputs: dict[str, Any]) -> None:
    del _main(inputs)["resources"]["limits"]


MUTATIONS: dict[str, Mutation] = {
    "tag-only image": _tag_only,
    "public registry": _public_registry,
    "privileged": _privileged,
    "writable root": _writable_root,
    "root user": _root_user,
    "added capability": _capability,
    "no limits": _no_limits,
}
PAIRS = {
    # (ours, the user's): the same kind of object, ours from existing-cluster, theirs from byo-containers
    # (the same kind of site: an existing cluster with the Prometheus Operator).
    "server": (
        "kubernetes:apps/v1:Deployment",
        "existing-cluster/onprem-serve-deploy",
        "byo-containers/lab-chat-deploy",
    ),
    "trainer": (
        "kubernetes:batch/v1:Job",
        "byo-containers/lab-pretrain-job",
        "byo-containers/lab-finetune-job",
    ),
}


def _resource(type_token: str, where: str) -> PlanResource:
    stack, name = where.split("/")
    [found] = [r for r in stack_plan(stack).of_type(type_token) if r.name == name]
    return found


def _policies(resource: PlanResource, mutate: Mutation | None = None) -> set[str]:
    inputs = copy.deepcopy(resource.inputs)
    if mutate is not None:
        mutate(inputs)
    plan = Plan(stack="test", resources=[PlanResource(**{**resource.__dict__, "inputs": inputs})])
    # Decided findings only: a one-object plan cannot tell whose a cloud registry is, which the registry
    # rule reports as a "can't run during preview" note on ours and theirs alike.
    return {v.policy for v in evaluate_plan(plan, SPECS) if not v.message.startswith("can't run policy")}


@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_as_planned_ours_and_theirs_pass_the_same_rules(pair: str) -> None:
    type_token, ours, theirs = PAIRS[pair]
    assert _policies(_resource(type_token, ours)) == _policies(_resource(type_token, theirs))


@pytest.mark.parametrize("pair", sorted(PAIRS))
@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_one_bad_field_fails_the_same_rules_for_ours_and_theirs(pair: str, mutation: str) -> None:
    type_token, ours_name, theirs_name = PAIRS[pair]
    ours, theirs = _resource(type_token, ours_name), _resource(type_token, theirs_name)
    ours_new = _policies(ours, MUTATIONS[mutation]) - _policies(ours)
    theirs_new = _policies(theirs, MUTATIONS[mutation]) - _policies(theirs)
    assert ours_new, f"no rule catches a {mutation} {pair}"
    assert theirs_new == ours_new


def test_a_missing_probe_on_a_vllm_server_fails_like_on_ours() -> None:
    type_token, ours, theirs = PAIRS["server"]
    for name in (ours, theirs):
        resource = _resource(type_token, name)
        assert _policies(resource, _no_liveness) - _policies(resource) == {"kubernetes-workload-probes"}


def test_the_model_stager_init_container_is_judged_like_any_container() -> None:
    type_token, _, theirs = PAIRS["server"]
    resource = _resource(type_token, theirs)

    def privileged_stager(inputs: dict[str, Any]) -> None:
        _pod(inputs)["initContainers"][0]["securityContext"]["privileged"] = True

    def unpinned_stager(inputs: dict[str, Any]) -> None:
        stager = _pod(inputs)["initContainers"][0]
        stager["image"] = stager["image"].split("@")[0]

    assert _policies(resource, privileged_stager) - _policies(resource)
    assert "kubernetes-pod-image-pinned-by-digest" in _policies(resource, unpinned_stager)
