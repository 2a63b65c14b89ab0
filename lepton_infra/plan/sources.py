"""Where in the stack file each resource of a plan comes from: the one mapping from URNs to lines.

Our components are named from the spec (``components.site_kit``: a site is ``<platform>-<site>``, its
pools ``<platform>-<site>-<pool>`` (``<platform>-<site>-compute-<pool>`` on AWS), a workload on it
``<site>-<workload>``), so the component a resource sits under names the spec entry that made it.
``locate`` walks each resource's parent chain to the nearest such component and looks that entry's line
up with ``StackConfig.line_of``. Reports print the location beside a finding; SARIF writes it as the
result's ``physicalLocation``. A plan of a program that is not ours (``plan --project``) simply gets
fewer locations: no guessing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lepton_infra.errors import PathPart, format_path
from lepton_infra.plan.model import Plan, PlanResource

if TYPE_CHECKING:
    from lepton_infra.project import StackConfig

# The platform's one config key (``project.PLATFORM_KEY``), spelled here so that reports, which only
# print locations, load no blueprint.
PLATFORM_KEY = "lepton-infra:platform"


@dataclass(frozen=True)
class SourceLocation:
    """A line of a stack file, and the config path there (``sites[0].gpu_pools[1]``)."""

    file: Path
    line: int
    path: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line} ({self.path})"


def _names(platform: Mapping[str, Any]) -> Iterator[tuple[str, list[PathPart]]]:
    """(component name, config path) of every component the Platform names after a spec entry."""
    prefix = str(platform.get("name", ""))
    sites = platform.get("sites") or []
    for i, site in enumerate(sites if isinstance(sites, list) else []):
        if not isinstance(site, Mapping) or not isinstance(site.get("name"), str):
            continue
        name = site["name"]
        path: list[PathPart] = [PLATFORM_KEY, "sites", i]
        yield f"{prefix}-{name}", path
        yield name, path  # the site's Kubernetes layer (SiteWorkloads)
        # Pools hang under the site, or under its compute component (AWS: add-ons, system and GPU pools).
        for pools in (f"{prefix}-{name}", f"{prefix}-{name}-compute"):
            yield f"{pools}-system", [*path, "system_pool"]
            for j, pool in enumerate(site.get("gpu_pools") or []):
                if isinstance(pool, Mapping) and isinstance(pool.get("name"), str):
                    yield f"{pools}-{pool['name']}", [*path, "gpu_pools", j]
    workloads = platform.get("workloads") or []
    for k, workload in enumerate(workloads if isinstance(workloads, list) else []):
        if not isinstance(workload, Mapping) or not isinstance(workload.get("name"), str):
            continue
        for site in workload.get("sites") or []:
            yield f"{site}-{workload['name']}", [PLATFORM_KEY, "workloads", k]


def _display(path: Path) -> Path:
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def locate(plan: Plan, config: StackConfig) -> dict[str, SourceLocation]:
    """Each resource's URN -> the stack-file line of the spec entry it was built for (where one is)."""
    platform = config.values.get(PLATFORM_KEY)
    if not isinstance(platform, Mapping):
        return {}
    paths = dict(_names(platform))
    by_urn = {r.urn: r for r in plan.resources}
    found: dict[str, SourceLocation | None] = {}
    file = _display(config.path)

    def walk(resource: PlanResource) -> SourceLocation | None:
        chain: list[str] = []
        current: PlanResource | None = resource
        location: SourceLocation | None = None
        while current is not None and current.urn not in found:
            chain.append(current.urn)
            path = paths.get(current.name) if not current.custom else None
            if path is not None:
                line = config.line_of(path)
                location = SourceLocation(file, line, format_path(path[1:])) if line else None
                break
            current = by_urn.get(current.parent or "")
        else:
            location = found.get(current.urn) if current is not None else None
        for urn in chain:
            found[urn] = location
        return location

    for resource in plan.resources:
        walk(resource)
    return {urn: location for urn, location in found.items() if location is not None}
