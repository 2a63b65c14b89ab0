"""``lepton-infra plan``: run a stack's program offline, print the tree and every policy result.

Any Pulumi Python project plans: ours (its stacks validated against the platform spec first) or a user's
own program that imports our components (``--project DIR``), run with its own config as it is.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path
from typing import Any, TextIO

from lepton_infra.cli.options import (
    add_pack_option,
    add_policy_config_option,
    add_stack_options,
    pack_config,
    stack_config,
)
from lepton_infra.cli.outputs import file_problem, folder_problem
from lepton_infra.cli.progress import Progress
from lepton_infra.contract import CliExit
from lepton_infra.errors import ConfigError

# `--json -`: the plan goes to stdout, and everything meant for people to stderr.
STDOUT = Path("-")


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "plan", help="run a stack's program offline and check every policy of both packs"
    )
    add_stack_options(parser)
    parser.add_argument(
        "--json",
        type=Path,
        help="write the plan as JSON to this file (`-`: to stdout, and the report to stderr)",
    )
    parser.add_argument(
        "--manifests", type=Path, help="write every Kubernetes object as YAML into this directory"
    )
    add_policy_config_option(parser)
    add_pack_option(parser)
    parser.set_defaults(run=run)


def program_failure(error: BaseException, root: Path) -> str:
    """``error: the program raised KeyError: 'x'`` and the lines of the project's own files it came
    through (``  at __main__.py:12: raise KeyError('x')``), innermost last."""
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if not frame.filename.startswith("<")  # runpy's own frames: "<frozen runpy>"
        and Path(frame.filename).resolve().is_relative_to(root.resolve())
    ]
    lines = [f"error: the program raised {type(error).__name__}: {error}"]
    for frame in frames:
        where = Path(frame.filename).resolve().relative_to(root.resolve())
        lines.append(f"  at {where}:{frame.lineno}: {(frame.line or '').strip()}")
    return "\n".join(lines)


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
    from lepton_infra.project import find_project, platform_spec, platform_warnings, uses_platform

    to_stdout = args.json == STDOUT
    report: TextIO = sys.stderr if to_stdout else sys.stdout
    # Every input and output is checked before the program runs: nothing is printed that reads as a
    # success and is then taken back.
    unwritable = [
        problem
        for problem in (
            file_problem("--json", args.json) if args.json and not to_stdout else None,
            folder_problem("--manifests", args.manifests) if args.manifests else None,
        )
        if problem
    ]
    if unwritable:
        print("\n".join(f"error: {problem}" for problem in unwritable), file=sys.stderr)
        return CliExit.BAD_INPUT
    project = find_project(args.project)
    config = stack_config(args, project)
    # Our stacks fail here with file, field and line before the program runs; another project's program
    # reads its own config as it likes.
    spec = platform_spec(config) if uses_platform(project, config) else None
    checked = pack_config(args.policy_config)
    try:
        with Progress(sys.stderr, f"planning {project.name}/{config.stack}") as progress:
            stack_outputs = referenced_outputs(project, config, spec, run_program) if spec else None
            plan = run_program(project, config, stack_outputs, on_record=progress.update)
    except (UnsupportedPulumiSdk, UnknownStackReference, RunError) as error:
        # RunError: what the program refuses as `pulumi up` would (e.g. a Kubernetes layer whose cloud
        # layer lacks a site or a workload identity, or a missing required config key), printed as the
        # CLI prints it, without a traceback.
        print(f"error: {error}", file=sys.stderr)
        return CliExit.BAD_INPUT
    except ConfigError:
        raise  # the command prints it with file, line and field
    except Exception as error:
        # A bug in the program (ours or the user's): where it happened in the project's own files, in a
        # few lines; a traceback through runpy and the SDK's event loop helps nobody.
        print(program_failure(error, project.root), file=sys.stderr)
        return CliExit.BAD_INPUT
    if spec is not None and (warnings := platform_warnings(config, spec)):
        print(warnings, file=sys.stderr)
    packs = selected(args.pack)
    plan.violations = evaluate_packs(plan, checked, packs)
    locations = locate(plan, config)
    print(render_tree(plan), file=report)
    print(file=report)
    print(render_summary(plan, spec), file=report)
    print(file=report)
    print(render_text(plan.violations, rules_by_name(packs), locations), end="", file=report)
    print(render_packs(plan.violations, {p.name: len(p.rules()) for p in packs}), end="", file=report)
    failed = any(v.blocks for v in plan.violations)
    document = json.dumps(plan.to_json(), indent=2, sort_keys=False) + "\n"
    try:
        if to_stdout:
            sys.stdout.write(document)
            sys.stdout.flush()
        elif args.json:
            args.json.write_text(document, encoding="utf-8")
            print(f"plan written to {args.json}", file=report)
        if args.manifests:
            written = write_manifests(plan, args.manifests)
            print(f"{len(written)} manifest file(s) written to {args.manifests}", file=report)
    except OSError as error:
        if isinstance(error, BrokenPipeError):
            raise
        print(f"error: cannot write {error.filename}: {error.strerror}", file=sys.stderr)
        return CliExit.BAD_INPUT
    return CliExit.VIOLATION if failed else CliExit.OK
