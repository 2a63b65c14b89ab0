"""``lepton-infra diff OLD.json NEW.json``: resources added, removed and changed between two plans.

Exit status: 0 when both plans were read (with or without changes: a diff is a report, not a check; the
policies judge the new plan in `plan` and `check`), 2 when either file is not a plan.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from lepton_infra.contract import CliExit


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "diff", help="resources added, removed and changed between two plans, for pull-request review"
    )
    parser.add_argument("old", type=Path, help="the plan before (plan JSON, preview JSON or stack export)")
    parser.add_argument("new", type=Path, help="the plan after")
    parser.add_argument("--json", action="store_true", help="print the diff as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from lepton_infra.plan.diff import diff_plans
    from lepton_infra.plan.diff_text import render_diff
    from lepton_infra.plan.loaders import PlanLoadError, load_plan

    try:
        old, new = load_plan(args.old), load_plan(args.new)
    except PlanLoadError as error:
        print(f"error: {error}", file=sys.stderr)
        return CliExit.BAD_INPUT
    diff = diff_plans(old, new)
    if args.json:
        print(json.dumps(diff.to_json(), indent=2))
    else:
        print(render_diff(diff, str(args.old), str(args.new)), end="")
    return CliExit.OK
