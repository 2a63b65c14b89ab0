"""The joins of the security pack stay linear in the number of objects (issue 16: Deployments x
PodDisruptionBudgets was quadratic): a pod's labels are compared with a bounded number of selectors,
however many budgets and policies share its namespace, and the whole pack's work per object is constant."""

from __future__ import annotations

import time

from lepton_infra.plan.evaluate import evaluate_plan
from lepton_infra.plan.model import Plan, PlanResource
from lepton_infra.policies.config import PackConfig
from lepton_infra.policies.kubernetes.selectors import SelectorIndex
from lepton_infra.policies.registry import all_policies


def _labels(i: int) -> dict[str, str]:
    # Every pod carries the same team and part-of labels, and its own app label.
    return {"team": "ml", "app.kubernetes.io/part-of": "lepton", "app": f"serve-{i}"}


def test_each_pod_is_compared_with_a_bounded_number_of_selectors_in_a_crowded_namespace() -> None:
    for count in (100, 1_000, 4_000):
        selectors = [("ml", {"matchLabels": _labels(i)}) for i in range(count)]
        index = SelectorIndex(selectors, (_labels(i) for i in range(count)))
        assert all(index.selects("ml", _labels(i)) for i in range(count))
        # Quadratic would be count * count / 2; the index compares each pod with its own selector.
        assert index.comparisons <= 2 * count


def _plan(count: int) -> Plan:
    resources = []
    for i in range(count):
        labels = {"app": f"serve-{i}", "team": "ml"}
        container = {"name": "s", "image": "nvcr.io/nvidia/tritonserver@sha256:" + "a" * 64}
        deployment = {
            "metadata": {
                "name": f"serve-{i}",
                "namespace": "ml",
                "labels": {"app.kubernetes.io/component": "inference"},
            },
            "spec": {
                "replicas": 2,
                "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
            },
        }
        budget = {
            "metadata": {"name": f"serve-{i}", "namespace": "ml"},
            "spec": {"selector": {"matchLabels": labels}},
        }
        for kind, name, inputs in (
            ("apps/v1:Deployment", f"d{i}", deployment),
            ("policy/v1:PodDisruptionBudget", f"p{i}", budget),
        ):
            token = f"kubernetes:{kind}"
            resources.append(PlanResource(f"urn:pulumi:s::p::{token}::{name}", token, name, True, inputs))
    return Plan("s", resources)


def test_the_pack_takes_about_as_long_per_object_at_eight_times_the_objects() -> None:
    rules = all_policies()
    config = PackConfig()

    def seconds_per_object(count: int) -> float:
        plan = _plan(count)
        start = time.perf_counter()
        evaluate_plan(plan, rules, config)
        return (time.perf_counter() - start) / count

    seconds_per_object(100)  # warm caches
    small, large = seconds_per_object(250), seconds_per_object(2_000)
    # Linear work keeps the per-object time flat; a quadratic join would multiply it by ~8. The bound is
    # loose because the machine is shared.
    assert large < 3 * small, (small, large)
