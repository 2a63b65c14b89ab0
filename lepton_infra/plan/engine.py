"""Run a stack's Pulumi program offline: the CLI's config channel, Pulumi's mocks, a recording monitor."""

from __future__ import annotations

import gc
import runpy
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pulumi

from lepton_infra.errors import ConfigError, ConfigIssue
from lepton_infra.plan import pulumi_sdk
from lepton_infra.plan.mocks import PlanMocks
from lepton_infra.plan.model import Plan, StackOutputs
from lepton_infra.plan.order import ConstructionOrder
from lepton_infra.plan.pulumi_sdk import without_source_positions
from lepton_infra.plan.recorder import RecordingMonitor
from lepton_infra.plan.references import referenced_outputs
from lepton_infra.project import (
    PulumiProject,
    StackConfig,
    find_project,
    platform_spec,
    read_stack_config,
    uses_platform,
)


def run_plan(project_dir: Path, stack: str) -> Plan:
    """Validate the stack's config (errors with file and line), then run the project's program offline.

    A Kubernetes layer's cloud stack is planned first: its outputs answer the stack reference.
    """
    project = find_project(project_dir)
    config = read_stack_config(project, stack)
    spec = platform_spec(config)  # fail early, with line numbers, before the program runs
    return run_program(project, config, referenced_outputs(project, config, spec, run_program))


def run_program(
    project: PulumiProject,
    config: StackConfig,
    stack_outputs: dict[str, StackOutputs] | None = None,
    *,
    on_record: Callable[[int], None] | None = None,
) -> Plan:
    """Run ``project.main`` under mocks exactly as `pulumi up` would, with the stack's config;
    ``stack_outputs`` answer the program's stack references (by fully qualified stack name).

    Any Pulumi Python project: ours, or a user's own program that imports our components.
    ``on_record`` is told the count of resources registered so far, after each one.
    """
    if not project.main.is_file():
        raise ConfigError(
            str(project.root / "Pulumi.yaml"),
            [ConfigIssue("main", f"the program {project.main} does not exist")],
        )

    def program() -> None:
        with _importable(project.root):
            runpy.run_path(str(project.main), run_name="__main__")

    return record(
        program,
        project=project.name,
        stack=config.stack,
        config=config,
        stack_outputs=stack_outputs,
        on_record=on_record,
        # Our stacks' resources are placed by the stack file (``sources.locate``), and the frames a
        # position would come from are the library's own: those plans skip the walk, at full speed.
        sources=None if uses_platform(project, config) else project.root,
    )


def record(
    program: Callable[[], object],
    *,
    project: str,
    stack: str,
    config: StackConfig | None = None,
    stack_outputs: dict[str, StackOutputs] | None = None,
    on_record: Callable[[int], None] | None = None,
    sources: Path | None = None,
) -> Plan:
    """Run any Pulumi program function under the recording monitor and return what it registered.

    With ``sources`` (a project directory), each resource records the line of that project's files that
    registered it (``PlanResource.source``).
    """
    pulumi_sdk.require_supported()
    monitor = RecordingMonitor(PlanMocks(stack_outputs), on_record, sources)
    # Config reaches the program through the runtime's config, as the CLI sets it from the stack file.
    pulumi.runtime.set_all_config(
        config.runtime_config() if config else {}, sorted(config.secret_keys) if config else []
    )
    pulumi_sdk.start_mocked_run(monitor, monitor.plan_mocks, project, stack)
    order = ConstructionOrder()
    order.start()
    positions = pulumi_sdk.project_source_positions(sources) if sources else without_source_positions()
    with positions, fewer_collections():
        pulumi_sdk.run_stack(program)
    return Plan(
        stack=stack,
        resources=order.sort(monitor.recorded),
        outputs=monitor.outputs,
        source_root=repository_path(sources) if sources else None,
    )


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Collect garbage rarely while a plan runs.

    A plan allocates dozens of futures and outputs per resource and keeps nearly all of them alive to
    the end, so with the default thresholds Python re-scans them thousands of times: measured, over half
    of a 1,000-resource plan. Objects that exist before the run (modules, SDK classes) are frozen out of
    every scan. Thresholds are restored on exit.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(100_000, 50, 50)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def repository_path(directory: Path) -> str:
    """``directory`` relative to the root of the git repository holding it (code scanning reads paths
    from there), else to the working directory; absolute where it is under neither."""
    here = directory.resolve()
    for root in (*(p for p in (here, *here.parents) if (p / ".git").exists()), Path.cwd().resolve()):
        if here.is_relative_to(root):
            return here.relative_to(root).as_posix()
    return here.as_posix()


@contextmanager
def _importable(root: Path) -> Iterator[None]:
    # The program may import modules that sit beside it, as under the Pulumi CLI.
    sys.path.insert(0, str(root))
    try:
        yield
    finally:
        sys.path.remove(str(root))
