"""``lepton-infra policies``: every policy of both packs: its pack, enforcement, severity, description, and
the framework controls it implements (CIS EKS/AKS/ACK sections, Pod Security Standards controls, checkov
IDs)."""

from __future__ import annotations

import argparse
from typing import Any

from lepton_infra.contract import CliExit


def register(commands: Any) -> None:
    commands.add_parser("policies", help="list every policy").set_defaults(run=run)


def run(_: argparse.Namespace) -> int:
    return policies_command()


def policies_command() -> int:
    from lepton_infra.plan.packs import PACKS
    from lepton_infra.policies.coverage import short

    rows = [(pack.name, r) for pack in PACKS for r in sorted(pack.rules(), key=lambda r: (r.family, r.name))]
    width = max(len(r.name) for _, r in rows)
    pack_width = max(len(p) for p, _ in rows)
    print(f"{'POLICY':<{width}}  {'PACK':<{pack_width}}  {'ENFORCEMENT':<11}  {'SEVERITY':<8}  DESCRIPTION")
    for pack, r in rows:
        columns = f"{r.name:<{width}}  {pack:<{pack_width}}  {r.enforcement:<11}  {r.severity:<8}"
        print(f"{columns}  {r.description}")
        if r.controls:
            # The framework controls the policy implements, one line under it (CIS, PSS, checkov IDs).
            controls = ", ".join(f"{short(c.framework)} {c.id}" for c in r.controls)
            print(f"{'':<{width}}  controls: {controls}")
    return CliExit.OK
