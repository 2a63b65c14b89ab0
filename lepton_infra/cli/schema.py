"""``lepton-infra schema``: the JSON Schema of a whole stack file (or of the policy config), for editors."""

from __future__ import annotations

import argparse
import json
from typing import Any

from lepton_infra.contract import CliExit


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "schema", help="print the JSON Schema of a stack file (Pulumi.<stack>.yaml) for editors"
    )
    parser.add_argument(
        "--policy-config",
        action="store_true",
        help="print the schema of the policy config file (--policy-config FILE) instead",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # The spec and the packs load here, not in the parser every command builds.
    if args.policy_config:
        from lepton_infra.plan.packs import rules_by_name
        from lepton_infra.policies.config_schema import policy_config_schema

        schema = policy_config_schema(sorted(rules_by_name()))
    else:
        from lepton_infra.stack_schema import stack_file_schema

        schema = stack_file_schema()
    print(json.dumps(schema, indent=2))
    return CliExit.OK
