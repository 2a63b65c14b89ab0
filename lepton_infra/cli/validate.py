"""``lepton-infra validate``: a stack's config (or every stack's) against the spec, every problem at once."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from lepton_infra.cli.options import add_stack_options, stack_config
from lepton_infra.contract import CliExit
from lepton_infra.errors import ConfigError, ConfigIssue


def register(commands: Any) -> None:
    parser = commands.add_parser("validate", help="validate a stack's configuration")
    add_stack_options(parser)
    parser.add_argument("--all", action="store_true", help="validate every stack of the project")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.all and (args.stack is not None or args.stack_file is not None):
        issue = ConfigIssue("--all", "validates every stack; leave out --stack and --stack-file")
        raise ConfigError("--all", [issue])
    # The spec and the project load when the command runs, not when the parser is built.
    from lepton_infra.project import find_project, platform_spec, platform_warnings, read_stack_config

    project = find_project(args.project)
    problems: list[ConfigError] = []
    stacks = project.stacks() if args.all else [None]
    for stack in stacks:
        try:
            config = (
                read_stack_config(project, stack, outside_project=args.allow_outside_project)
                if stack
                else stack_config(args, project)
            )
            spec = platform_spec(config)
        except ConfigError as invalid:
            problems.append(invalid)
            continue
        print(f"{config.stack}: valid ({len(spec.sites)} site(s), {len(spec.workloads)} workload(s))")
        if warnings := platform_warnings(config, spec):
            print(warnings, file=sys.stderr)
    for problem in problems:
        print(problem.render(), file=sys.stderr)
    return CliExit.BAD_INPUT if problems else CliExit.OK
