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


def _locations(plan: Plan) -> dict[str, SourceLocation]:
    """Stack-file lines for a saved plan of a stack of the project in the current directory, if any."""
    from lepton_infra.plan.kubernetes_files import STACK as MANIFESTS
    from lepton_infra.plan.sources import locate

    if plan.stack == MANIFESTS:
        return {}  # bare manifests come from no stack file
    from lepton_infra.project import find_project, read_stack_config

    try:
        return locate(plan, read_stack_config(find_project(), plan.stack))
    except ConfigError:
        return {}


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
    locations = _locations(plan) if fmt in ("text", "sarif") else {}
    print(RENDERERS[fmt](violations, rules_by_name(chosen), locations), end="")
    return CliExit.VIOLATION if any(v.blocks for v in violations) else CliExit.OK
