"""``lepton-infra policies``: every policy of the pack with its enforcement, severity and description."""

from __future__ import annotations

import argparse
from typing import Any

from lepton_infra.contract import CliExit


def register(commands: Any) -> None:
    commands.add_parser("policies", help="list every policy").set_defaults(run=run)


def run(_: argparse.Namespace) -> int:
    return policies_command()


def policies_command() -> int:
    from lepton_infra.policies.pack import PACK_NAME
    from lepton_infra.policies.registry import all_policies

    rules = sorted(all_policies(), key=lambda r: (r.family, r.name))
    width = max(len(r.name) for r in rules)
    print(f"{'POLICY':<{width}}  {'PACK':<15}  {'ENFORCEMENT':<11}  {'SEVERITY':<8}  DESCRIPTION")
    for r in rules:
        print(f"{r.name:<{width}}  {PACK_NAME:<15}  {r.enforcement:<11}  {r.severity:<8}  {r.description}")
    return CliExit.OK
