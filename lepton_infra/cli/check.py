"""``lepton-infra check FILE``: the policy packs on a saved plan, preview, stack export, or Kubernetes
manifests (a YAML or JSON file, or a folder of them)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lepton_infra.cli.options import add_pack_option, add_policy_config_option, pack_config
from lepton_infra.contract import CliExit
from lepton_infra.errors import ConfigError

if TYPE_CHECKING:
    from lepton_infra.plan.model import Plan
    from lepton_infra.plan.sources import SourceLocation


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "check", help="run the policy packs on a saved plan, preview, stack export or Kubernetes manifests"
    )
    parser.add_argument(
        "file", type=Path, help="plan JSON, preview JSON, stack export, or manifests (file or folder)"
    )
    parser.add_argument("--format", choices=("text", "json", "sarif", "junit"), default="text")
    add_policy_config_option(parser)
    add_pack_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    return check_command(args.file, args.format, args.policy_config, args.pack)


def _locations(plan: Plan, file: Path) -> dict[str, SourceLocation]:
    """Where each resource of a saved plan comes from: the program lines the plan recorded, and the
    stack-file lines of a stack of the project in the current directory, if the plan is one of its;
    the whole stack at the stack file's first line, else at the checked file's."""
    from lepton_infra.plan.kubernetes_files import STACK as MANIFESTS
    from lepton_infra.plan.sources import WHOLE_STACK, SourceLocation, display, locate

    checked = {WHOLE_STACK: SourceLocation(display(file), 1)}
    if plan.stack == MANIFESTS:
        return checked  # bare manifests come from no stack file
    from lepton_infra.project import find_project, read_stack_config

    try:
        project = find_project()
        # urn:pulumi:<stack>::<project>::...: another project's stack of the same name is not this one.
        planned = {r.urn.split("::")[1] for r in plan.resources[:1]}
        config = read_stack_config(project, plan.stack) if planned <= {project.name} else None
    except ConfigError:
        config = None
    whole = {WHOLE_STACK: SourceLocation(display(config.path), 1)} if config else checked
    return {**whole, **locate(plan, config)}


def check_command(
    file: Path, fmt: str = "text", config: Path | None = None, packs: list[str] | None = None
) -> int:
    from lepton_infra.plan.loaders import PlanLoadError, load_plan
    from lepton_infra.plan.packs import evaluate_packs, rules_by_name, selected
    from lepton_infra.plan.reporters import RENDERERS

    if fmt not in RENDERERS:
        print(f"error: unknown format {fmt!r}; choose one of {', '.join(RENDERERS)}")
        return CliExit.BAD_INPUT
    try:
        checked = pack_config(config)
        plan = load_plan(file)
    except PlanLoadError as e:
        print(f"error: {e}")
        return CliExit.BAD_INPUT
    except ConfigError as e:
        print(f"error: {e.render()}")
        return CliExit.BAD_INPUT
    chosen = selected(packs)
    violations = evaluate_packs(plan, checked, chosen)
    locations = _locations(plan, file) if fmt in ("text", "json", "sarif") else {}
    print(RENDERERS[fmt](violations, rules_by_name(chosen), locations), end="")
    return CliExit.VIOLATION if any(v.blocks for v in violations) else CliExit.OK
