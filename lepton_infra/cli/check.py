"""``lepton-infra check FILE``: the policy packs on a saved plan, preview or stack export."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from lepton_infra.cli.options import add_policy_config_option, pack_config
from lepton_infra.contract import CliExit
from lepton_infra.errors import ConfigError


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "check", help="run the policy packs on a saved plan, preview or stack export"
    )
    parser.add_argument("file", type=Path)
    parser.add_argument("--format", choices=("text", "json", "sarif", "junit"), default="text")
    add_policy_config_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    return check_command(args.file, args.format, args.policy_config)


def check_command(file: Path, fmt: str = "text", config: Path | None = None) -> int:
    from lepton_infra.plan.evaluate import evaluate
    from lepton_infra.plan.loaders import PlanLoadError, load_plan
    from lepton_infra.plan.reporters import RENDERERS
    from lepton_infra.policies.registry import by_name

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
    violations = evaluate(plan, checked)
    print(RENDERERS[fmt](violations, by_name()), end="")
    return CliExit.VIOLATION if any(v.blocks for v in violations) else CliExit.OK
