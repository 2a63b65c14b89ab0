"""The joins of the security pack stay linear in the number of objects (issue 16: Deployments x
PodDisruptionBudgets was quadratic): a pod's labels are compared with a bounded number of selectors,
however many budgets and policies share its namespace. The pack's time at 1,200 and 10,000 objects is
bench/policy_vs_checkov.py's to measure: a timed assertion here would only measure the machine's load."""

from __future__ import annotations

from lepton_infra.policies.kubernetes.selectors import SelectorIndex


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
