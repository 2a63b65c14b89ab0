"""``lepton-infra schema``: the JSON Schema of the platform config, for editors."""

from __future__ import annotations

import argparse
import json
from typing import Any

from lepton_infra.contract import CliExit


def register(commands: Any) -> None:
    commands.add_parser("schema", help="print the JSON Schema of the platform config").set_defaults(run=run)


def run(_: argparse.Namespace) -> int:
    from lepton_infra.blueprint import PlatformSpec

    print(json.dumps(PlatformSpec.model_json_schema(), indent=2))
    return CliExit.OK
