"""Arguments more than one command takes, and the pack config they name."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from lepton_infra.contract import DEFAULT_STACK

if TYPE_CHECKING:
    from lepton_infra.policies.config import PackConfig
    from lepton_infra.project import PulumiProject, StackConfig


def add_stack_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stack",
        help=f"stack name (default: {DEFAULT_STACK}, or the name in --stack-file's Pulumi.<stack>.yaml)",
    )
    parser.add_argument(
        "--stack-file",
        type=Path,
        help="read the stack's config from this file instead of <stackConfigDir>/Pulumi.<stack>.yaml "
        "(as `pulumi up --config-file`); it must lie in the project unless --allow-outside-project",
    )
    parser.add_argument(
        "--project", type=Path, default=Path.cwd(), help="directory of Pulumi.yaml (default: .)"
    )
    parser.add_argument(
        "--allow-outside-project",
        action="store_true",
        help="read a stack file that lies outside the project directory (after links are followed)",
    )


def stack_config(args: argparse.Namespace, project: PulumiProject) -> StackConfig:
    """The config ``--stack`` and ``--stack-file`` name: the stack's own file, or the file given (its
    stack named by ``--stack`` or by the file's name)."""
    from lepton_infra.project import read_stack_config, stack_name_of

    file: Path | None = args.stack_file
    stack: str = args.stack if args.stack is not None else stack_name_of(file) if file else DEFAULT_STACK
    return read_stack_config(project, stack, outside_project=args.allow_outside_project, path=file)


def add_policy_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--policy-config", type=Path, help="policy pack configuration (enforcement, exemptions)"
    )


def pack_config(path: Path | None) -> PackConfig:
    """The pack config in ``path`` (defaults without one), every policy it names checked against the pack."""
    # The packs' rules load on first use: `schema` and `validate` never need them. One file configures
    # every pack, so a policy it names must exist in one of them.
    from lepton_infra.plan.packs import rules_by_name
    from lepton_infra.policies.config import PackConfig, load_config

    if path is None:
        return PackConfig()
    config = load_config(path)
    config.check_names(rules_by_name().values(), source=str(path))
    return config


def add_pack_option(parser: argparse.ArgumentParser) -> None:
    from lepton_infra.plan.packs import PACK_NAMES

    parser.add_argument(
        "--pack",
        action="append",
        choices=PACK_NAMES,
        help="run only this policy pack (repeatable; default: every pack)",
    )
