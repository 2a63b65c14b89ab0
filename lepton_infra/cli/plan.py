"""``lepton-infra plan``: run the stack's program offline, print the tree and every policy result."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from lepton_infra.cli.options import add_pack_option, add_policy_config_option, add_stack_options, pack_config
from lepton_infra.cli.outputs import file_problem, folder_problem
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

    from lepton_infra.plan.engine import run_program
    from lepton_infra.plan.manifests import write_manifests
    from lepton_infra.plan.mocks import UnknownStackReference
    from lepton_infra.plan.packs import evaluate_packs, rules_by_name, selected
    from lepton_infra.plan.pulumi_sdk import UnsupportedPulumiSdk
    from lepton_infra.plan.references import referenced_outputs
    from lepton_infra.plan.reporters import render_packs, render_text
    from lepton_infra.plan.sources import locate
    from lepton_infra.plan.tree import render_summary, render_tree
    from lepton_infra.project import find_project, platform_spec, platform_warnings, read_stack_config

    # Every input and output is checked before the program runs: nothing is printed that reads as a
    # success and is then taken back.
    unwritable = [
        problem
        for problem in (
            file_problem("--json", args.json) if args.json else None,
            folder_problem("--manifests", args.manifests) if args.manifests else None,
        )
        if problem
    ]
    if unwritable:
        print("\n".join(f"error: {problem}" for problem in unwritable), file=sys.stderr)
        return CliExit.BAD_INPUT
    project = find_project(args.project)
    config = read_stack_config(project, args.stack, outside_project=args.allow_outside_project)
    spec = platform_spec(config)  # fails with file, field and line before the program runs
    checked = pack_config(args.policy_config)
    try:
        plan = run_program(project, config, referenced_outputs(project, config, spec, run_program))
    except (UnsupportedPulumiSdk, UnknownStackReference, RunError) as error:
        # RunError: what the program refuses as `pulumi up` would (e.g. a Kubernetes layer whose cloud
        # layer lacks a site or a workload identity), printed as the CLI prints it, without a traceback.
        print(f"error: {error}", file=sys.stderr)
        return CliExit.BAD_INPUT
    if warnings := platform_warnings(config, spec):
        print(warnings, file=sys.stderr)
    packs = selected(args.pack)
    plan.violations = evaluate_packs(plan, checked, packs)
    locations = locate(plan, config)
    print(render_tree(plan))
    print()
    print(render_summary(plan, spec))
    print()
    print(render_text(plan.violations, rules_by_name(packs), locations), end="")
    print(render_packs(plan.violations, {p.name: len(p.rules()) for p in packs}), end="")
    failed = any(v.blocks for v in plan.violations)
    try:
        if args.json:
            args.json.write_text(
                json.dumps(plan.to_json(), indent=2, sort_keys=False) + "\n", encoding="utf-8"
            )
            print(f"plan written to {args.json}")
        if args.manifests:
            written = write_manifests(plan, args.manifests)
            print(f"{len(written)} manifest file(s) written to {args.manifests}")
    except OSError as error:
        print(f"error: cannot write {error.filename}: {error.strerror}", file=sys.stderr)
        return CliExit.BAD_INPUT
    return CliExit.VIOLATION if failed else CliExit.OK
