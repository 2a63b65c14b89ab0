"""The `lepton-infra` command: plan, check, validate, schema, policies.

Exit codes (the contract): 0 fine, 1 a mandatory policy is violated, 2 bad configuration or input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from lepton_infra.blueprint import PlatformSpec
from lepton_infra.blueprint.errors import ConfigError
from lepton_infra.project import DEFAULT_STACK, find_project, platform_spec, read_stack_config

EXIT_OK, EXIT_VIOLATION, EXIT_BAD_INPUT = 0, 1, 2
EXIT_BROKEN_PIPE = 141


def _plan(args: argparse.Namespace) -> int:
    from lepton_infra.plan.engine import run_plan
    from lepton_infra.plan.manifests import write_manifests
    from lepton_infra.plan.reporters import render_text
    from lepton_infra.plan.tree import render_summary, render_tree
    from lepton_infra.policies.commands import evaluate
    from lepton_infra.policies.config import ConfigError as PolicyConfigError
    from lepton_infra.policies.registry import by_name

    plan = run_plan(args.project, args.stack)
    try:
        plan.violations = evaluate(plan, args.policy_config)
    except PolicyConfigError as error:
        print(f"error: {args.policy_config}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(render_tree(plan))
    print()
    print(render_summary(plan))
    print()
    print(render_text(plan.violations, by_name()), end="")
    failed = any(v.blocks for v in plan.violations)
    if args.json:
        args.json.write_text(json.dumps(plan.to_json(), indent=2, sort_keys=False) + "\n", encoding="utf-8")
        print(f"plan written to {args.json}")
    if args.manifests:
        written = write_manifests(plan, args.manifests)
        print(f"{len(written)} manifest file(s) written to {args.manifests}")
    return EXIT_VIOLATION if failed else EXIT_OK


def _check(args: argparse.Namespace) -> int:
    from lepton_infra.policies.commands import check_command

    return check_command(args.file, args.format, args.policy_config)


def _validate(args: argparse.Namespace) -> int:
    project = find_project(args.project)
    stacks = project.stacks() if args.all else [args.stack]
    problems: list[ConfigError] = []
    for stack in stacks:
        try:
            spec = platform_spec(read_stack_config(project, stack))
        except ConfigError as invalid:
            problems.append(invalid)
            continue
        print(f"{stack}: valid ({len(spec.sites)} site(s), {len(spec.workloads)} workload(s))")
    for problem in problems:
        print(problem.render(), file=sys.stderr)
    return EXIT_BAD_INPUT if problems else EXIT_OK


def _schema(_: argparse.Namespace) -> int:
    print(json.dumps(PlatformSpec.model_json_schema(), indent=2))
    return EXIT_OK


def _policies(_: argparse.Namespace) -> int:
    from lepton_infra.policies.commands import policies_command

    return policies_command()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lepton-infra", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    def with_stack(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--stack", default=DEFAULT_STACK, help=f"stack name (default: {DEFAULT_STACK})")
        sub.add_argument(
            "--project", type=Path, default=Path.cwd(), help="directory of Pulumi.yaml (default: .)"
        )

    plan = commands.add_parser("plan", help="run the stack's program offline and check every policy")
    with_stack(plan)
    plan.add_argument("--json", type=Path, help="write the plan as JSON to this file")
    plan.add_argument(
        "--manifests", type=Path, help="write every Kubernetes object as YAML into this directory"
    )
    plan.add_argument(
        "--policy-config", type=Path, help="policy pack configuration (enforcement, exemptions)"
    )
    plan.set_defaults(run=_plan)

    check = commands.add_parser("check", help="run the policy packs on a saved plan, preview or stack export")
    check.add_argument("file", type=Path)
    check.add_argument("--format", choices=("text", "json", "sarif", "junit"), default="text")
    check.add_argument(
        "--policy-config", type=Path, help="policy pack configuration (enforcement, exemptions)"
    )
    check.set_defaults(run=_check)

    validate = commands.add_parser("validate", help="validate a stack's configuration")
    with_stack(validate)
    validate.add_argument("--all", action="store_true", help="validate every stack of the project")
    validate.set_defaults(run=_validate)

    commands.add_parser("schema", help="print the JSON Schema of the platform config").set_defaults(
        run=_schema
    )
    commands.add_parser("policies", help="list every policy").set_defaults(run=_policies)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except ConfigError as error:
        print(error.render(), file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        # The reader left (`lepton-infra policies | head`): stop quietly with the shell's SIGPIPE status,
        # which no contract exit code (0, 1, 2) could be mistaken for.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    return code


if __name__ == "__main__":
    sys.exit(main())
