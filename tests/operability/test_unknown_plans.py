"""The operability pack on plans whose inputs are unknown during preview: undecided, never a false finding.

In a `pulumi preview` every value the cloud computes in the same update (an ID, an ARN, an add-on's name
taken from another resource's output) is one of the engine's unknown sentinels
(pulumi/sdk/go/common/resource/plugin/rpc.go; ``values.UNKNOWN_KINDS``). Read as absent, they gave false
findings: an unknown ``addonName`` read as "no metrics-server" and "the VPC CNI does not enforce
NetworkPolicy", an unknown ``chart`` as "no Karpenter release", an unknown ``enableAutoScaling`` as "AKS
never grows the pool", unknown ``nodeLabels`` as "no pool carries the labels the pods select", unknown
release ``values`` as "the GPU Operator does not tolerate the spot taint", an unknown ``policyArn`` or
``roleDefinitionId`` as "the nodes cannot pull images", unknown annotations as "`pulumi up` waits for the
Job". Nested, as preview shows values built from outputs: an unknown toleration key read as "does not
tolerate", an unknown nodeSelector or pool label value as "no pool carries the labels", an unknown taint as
one nothing tolerates, an unknown skipAwait value as "waits", an unknown HPA metric type as "scales on cpu
without metrics-server", an unknown SiteWorkloads runner as "does not say where `pulumi up` runs", an unknown
Karpenter template or GPU Operator values section as a pool without labels or the chart's default
tolerations. A rule that reads such a value for its verdict is now undecided (``values.known``).

The sweep makes each input name unknown on every resource at once (the secret sweep's method,
tests/policies/test_secret_plans.py), with the sentinel of the value's type, on the example stacks' plans as
one stack deploys them; a finding may change its wording (a name it could not read) but no rule may find
on a resource what the plain plan does not. About 6 s for the three plans on this machine.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from plan_helpers import whole_plan

from lepton_infra.plan.loaders import plan_from_json
from lepton_infra.plan.packs import OPERABILITY, evaluate_packs, selected
from lepton_infra.policies.values import UNKNOWN_KINDS

STACKS = ("aws-dev", "azure-prod", "alicloud-prod")
_SENTINEL = {kind: sentinel for sentinel, kind in UNKNOWN_KINDS.items()}


def unknown(value: Any) -> str:
    """The engine's unknown sentinel for a value of ``value``'s type."""
    if isinstance(value, bool):
        return _SENTINEL["boolean"]
    if isinstance(value, int | float):
        return _SENTINEL["number"]
    if isinstance(value, list):
        return _SENTINEL["Array"]
    if isinstance(value, dict):
        return _SENTINEL["Object"]
    return _SENTINEL["string"]


def findings(document: dict[str, Any]) -> set[tuple[str, str | None]]:
    """(policy, resource) of every decided finding of the operability pack on the plan ``document``."""
    found = evaluate_packs(plan_from_json(document), None, selected([OPERABILITY]))
    return {
        (v.policy, v.urn)
        for v in found
        if not (v.enforcement == "advisory" and v.message.startswith("can't run policy"))
    }


@pytest.mark.parametrize("stack", STACKS)
def test_every_input_unknown_gives_no_false_finding(stack: str) -> None:
    plain = whole_plan(stack).to_json()
    expected = findings(copy.deepcopy(plain))
    keys = sorted({k for r in plain["resources"] for k in r.get("inputs") or {}})
    false = {}
    for key in keys:
        document = copy.deepcopy(plain)
        for resource in document["resources"]:
            inputs = resource.get("inputs") or {}
            if key in inputs:
                inputs[key] = unknown(inputs[key])
        if extra := findings(document) - expected:
            false[key] = sorted(extra)
    assert not false, false


def _leaf_paths(node: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every path below ``node`` (mapping keys and list indexes), inner nodes included."""
    found: list[tuple[str | int, ...]] = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for step, child in items:
        found.append((*path, step))
        found.extend(_leaf_paths(child, (*path, step)))
    return found


def _with_unknown(plain: dict[str, Any], index: int, path: tuple[str | int, ...]) -> dict[str, Any]:
    """The plan with one value of one resource unknown; only that resource is copied."""
    resources = list(plain["resources"])
    resource = copy.deepcopy(resources[index])
    node = resource["inputs"]
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = unknown(node[path[-1]])
    resources[index] = resource
    return {**plain, "resources": resources}


# Every third nested value of every resource (a tolerations key, a label value, a release's values
# section, an annotation, a Karpenter requirement): about 1,570 plans, 6.5 s on this machine (all of them:
# 21 s); slow-marked, CI runs it.
@pytest.mark.slow
@pytest.mark.parametrize("stack", STACKS)
def test_nested_values_unknown_give_no_false_finding(stack: str) -> None:
    plain = whole_plan(stack).to_json()
    expected = findings(copy.deepcopy(plain))
    cases = [
        (index, path)
        for index, resource in enumerate(plain["resources"])
        for path in _leaf_paths(resource.get("inputs") or {})
    ]
    false = {}
    for index, path in cases[::3]:
        if extra := findings(_with_unknown(plain, index, path)) - expected:
            false[(plain["resources"][index]["name"], path)] = sorted(extra)
    assert not false, false
