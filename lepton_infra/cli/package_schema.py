"""``lepton-infra package-schema``: the multi-language package's schema, as its provider gives it to Pulumi.

It is the schema ``pulumi package add`` reads to generate a TypeScript, Go, C#, Java or Python SDK, and the
one a Pulumi YAML program is checked against.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from lepton_infra.contract import CliExit


def register(commands: Any) -> None:
    commands.add_parser(
        "package-schema", help="print the Pulumi package schema of the components for every language"
    ).set_defaults(run=run)


def run(_: argparse.Namespace) -> int:
    # Imports every cloud's SDK (the schema covers them all): only when this command runs.
    from lepton_infra.package.host import package_schema

    print(json.dumps(package_schema(), indent=2))
    return CliExit.OK
