"""Which objects' label selectors select a pod: answered from an index, so a join stays linear.

A selector selects a pod when all its ``matchLabels`` are among the pod's labels and every
``matchExpressions`` entry holds (https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/).
Each selector with ``matchLabels`` is indexed under one of its pairs: the one the fewest pods carry, so
a pod looks up only the selectors indexed under its own pairs. Selectors with expressions alone, and
empty ones (which select every pod), are kept per namespace.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from lepton_infra.policies.values import as_list, as_mapping, get


def labels_of(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in as_mapping(value).items()}


def matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    if not labels_of(selector.get("matchLabels")).items() <= labels.items():
        return False
    for expression in as_list(selector.get("matchExpressions")):
        key, operator = str(get(expression, "key")), get(expression, "operator")
        values = {str(v) for v in as_list(get(expression, "values"))}
        present = key in labels
        if (
            (operator == "In" and (not present or labels[key] not in values))
            or (operator == "NotIn" and present and labels[key] in values)
            or (operator == "Exists" and not present)
            or (operator == "DoesNotExist" and present)
        ):
            return False
    return True


class SelectorIndex:
    """Selectors by namespace, indexed to answer "does any select these pod labels" cheaply."""

    def __init__(
        self, selectors: Iterable[tuple[str, Mapping[str, Any]]], pod_labels: Iterable[Mapping[str, str]]
    ):
        # How many selectors ``selects`` compared with pod labels: the join's cost, which tests bound.
        self.comparisons = 0
        frequency = Counter(pair for labels in pod_labels for pair in labels.items())
        self._by_pair: dict[tuple[str, str, str], list[dict[str, str]]] = defaultdict(list)
        self._by_namespace: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for namespace, selector in selectors:
            labels = labels_of(selector.get("matchLabels"))
            if labels and not selector.get("matchExpressions"):
                key, value = min(labels.items(), key=lambda pair: (frequency[pair], pair))
                self._by_pair[(namespace, key, value)].append(labels)
            else:
                self._by_namespace[namespace].append(selector)

    def selects(self, namespace: str, labels: Mapping[str, str]) -> bool:
        for key, value in labels.items():
            for pairs in self._by_pair.get((namespace, key, value), ()):
                self.comparisons += 1
                if pairs.items() <= labels.items():
                    return True
        for selector in self._by_namespace.get(namespace, ()):
            self.comparisons += 1
            if matches(selector, labels):
                return True
        return False
