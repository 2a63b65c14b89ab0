"""Labels every object of a workload carries, and the subset its selectors use."""

from __future__ import annotations

PART_OF = "lepton"
NAME_LABEL = "app.kubernetes.io/name"
COMPONENT_LABEL = "app.kubernetes.io/component"


def selector_labels(workload: str, component: str) -> dict[str, str]:
    """Stable labels a Service, PDB, NetworkPolicy or spread constraint selects the workload's pods by."""
    return {NAME_LABEL: workload, COMPONENT_LABEL: component}


def workload_labels(workload: str, component: str) -> dict[str, str]:
    return {**selector_labels(workload, component), **namespace_labels(workload)}


def namespace_labels(name: str) -> dict[str, str]:
    """Labels of an object that belongs to no single workload (a namespace), so inventories can place it."""
    return {NAME_LABEL: name, "app.kubernetes.io/part-of": PART_OF, "app.kubernetes.io/managed-by": "pulumi"}
