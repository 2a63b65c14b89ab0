"""Where in the stack file each resource of a plan comes from: the one mapping from URNs to lines.

Our components are named from the spec (``components.site_kit``: a site is ``<platform>-<site>``, its
pools ``<platform>-<site>-<pool>`` (``<platform>-<site>-compute-<pool>`` on AWS), a workload on it
``<site>-<workload>``), so the component a resource sits under names the spec entry that made it.
``locate`` walks each resource's parent chain to the nearest such component and looks that entry's line
up with ``StackConfig.line_of``. A resource the stack file does not place falls back to the line of the
project's own program that registered it (``PlanResource.source``, recorded for projects that do not use
the platform spec, ``plan --project``): a component program's findings point at the constructor call.
Reports print the location beside a finding; JSON findings carry it; SARIF writes it as the result's
``physicalLocation``.
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


# The key of ``locate``'s mapping for the stack as a whole: where a finding on no resource (or on one no
# line is known for) is put when a report needs a file for every finding (SARIF: code scanning refuses an
# upload with a result that has no physical location).
WHOLE_STACK = ""


@dataclass(frozen=True)
class SourceLocation:
    """A line of a stack file and the config path there (``sites[0].gpu_pools[1]``), or a line of a
    program (no config path)."""

    file: Path
    line: int
    path: str | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" + (f" ({self.path})" if self.path else "")

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file.as_posix(), "line": self.line}


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


def display(path: Path) -> Path:
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def locate(plan: Plan, config: StackConfig | None) -> dict[str, SourceLocation]:
    """Each resource's URN -> the stack-file line of the spec entry it was built for, else the program
    line that registered it (where either is known)."""
    return {**program_lines(plan), **stack_lines(plan, config)} if config else program_lines(plan)


def program_lines(plan: Plan) -> dict[str, SourceLocation]:
    """Each resource's URN -> the line of the project's program that registered it, the file named
    from the plan's ``source_root`` (the repository root, as code scanning reads paths)."""
    root = Path(plan.source_root or ".")
    return {
        r.urn: SourceLocation(root / r.source.file, r.source.line)
        for r in plan.resources
        if r.source is not None
    }


def stack_lines(plan: Plan, config: StackConfig) -> dict[str, SourceLocation]:
    """Each resource's URN -> the stack-file line of the spec entry it was built for (where one is)."""
    platform = config.values.get(PLATFORM_KEY)
    if not isinstance(platform, Mapping):
        return {}
    paths = dict(_names(platform))
    by_urn = {r.urn: r for r in plan.resources}
    found: dict[str, SourceLocation | None] = {}
    file = display(config.path)

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
