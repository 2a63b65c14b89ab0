"""The `lepton-infra` command: plan, check, validate, schema, policies, package-schema, diff.

Exit codes (the contract): 0 fine, 1 a mandatory policy is violated, 2 bad configuration or input.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from lepton_infra.cli import check, diff, package_schema, plan, policies, schema, validate
from lepton_infra.contract import CliExit
from lepton_infra.errors import ConfigError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lepton-infra", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for command in (plan, check, validate, schema, policies, package_schema, diff):
        command.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except ConfigError as error:
        print(error.render(), file=sys.stderr)
        return CliExit.BAD_INPUT
    except BrokenPipeError:
        # The reader left (`lepton-infra policies | head`): stop quietly with the shell's SIGPIPE status,
        # which no contract exit code (0, 1, 2) could be mistaken for.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return CliExit.BROKEN_PIPE
    return code
