"""``lepton-infra plan``: run the stack's program offline, print the tree and every policy result."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from lepton_infra.cli.options import add_pack_option, add_policy_config_option, add_stack_options, pack_config
from lepton_infra.contract import CliExit


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "plan", help="run the stack's program offline and check every policy of both packs"
    )
    add_stack_options(parser)
    parser.add_argument("--json", type=Path, help="write the plan as JSON to this file")
    parser.add_argument(
        "--manifests", type=Path, help="write every Kubernetes object as YAML into this directory"
    )
    add_policy_config_option(parser)
    add_pack_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # The offline engine loads the Pulumi SDK, and the spec and project load here too: only the command
    # that runs a program pays for them, not the parser every command builds.
    from pulumi import RunError

    from lepton_infra.plan.engine import run_plan
    from lepton_infra.plan.manifests import write_manifests
    from lepton_infra.plan.mocks import UnknownStackReference
    from lepton_infra.plan.packs import evaluate_packs, rules_by_name, selected
    from lepton_infra.plan.pulumi_sdk import UnsupportedPulumiSdk
    from lepton_infra.plan.reporters import render_packs, render_text
    from lepton_infra.plan.sources import locate
    from lepton_infra.plan.tree import render_summary, render_tree
    from lepton_infra.project import find_project, platform_spec, platform_warnings, read_stack_config

    try:
        plan = run_plan(args.project, args.stack)
    except (UnsupportedPulumiSdk, UnknownStackReference, RunError) as error:
        # RunError: what the program refuses as `pulumi up` would (e.g. a Kubernetes layer whose cloud
        # layer lacks a site or a workload identity), printed as the CLI prints it, without a traceback.
        print(f"error: {error}", file=sys.stderr)
        return CliExit.BAD_INPUT
    config = read_stack_config(find_project(args.project), args.stack)
    if warnings := platform_warnings(config, platform_spec(config)):
        print(warnings, file=sys.stderr)
    packs = selected(args.pack)
    plan.violations = evaluate_packs(plan, pack_config(args.policy_config), packs)
    locations = locate(plan, config)
    print(render_tree(plan))
    print()
    print(render_summary(plan))
    print()
    print(render_text(plan.violations, rules_by_name(packs), locations), end="")
    print(render_packs(plan.violations, {p.name: len(p.rules()) for p in packs}), end="")
    failed = any(v.blocks for v in plan.violations)
    if args.json:
        args.json.write_text(json.dumps(plan.to_json(), indent=2, sort_keys=False) + "\n", encoding="utf-8")
        print(f"plan written to {args.json}")
    if args.manifests:
        written = write_manifests(plan, args.manifests)
        print(f"{len(written)} manifest file(s) written to {args.manifests}")
    return CliExit.VIOLATION if failed else CliExit.OK
