"""Helpers for tests on offline plans: each stack is planned once per session and shared."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lepton_infra.plan.engine import run_plan
from lepton_infra.plan.model import Plan, PlanResource, StackOutputs

if TYPE_CHECKING:
    import pytest
    from pulumi.runtime.proto import analyzer_pb2_grpc

ROOT = Path(__file__).resolve().parent.parent

STACKS = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in (ROOT / "stacks").glob("Pulumi.*.yaml"))

_plans: dict[str, Plan] = {}
_whole: dict[str, Plan] = {}


def run_cli(*argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """``lepton-infra ARGV`` as a user runs it: its own process, stdout and stderr apart, not a terminal."""
    return subprocess.run(
        [sys.executable, "-m", "lepton_infra.cli", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


def run_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``lepton-infra ARGV`` in this process: its exit status, stdout and stderr; never a traceback."""
    from lepton_infra.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def edited_project(tmp_path: Path, stack: str, old: str, new: str) -> Path:
    """A copy of the project under ``tmp_path`` with one stack file, ``old`` replaced by ``new`` once in it;
    returns the stack file's path."""
    import shutil

    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "stacks").mkdir()
    path = tmp_path / "stacks" / f"Pulumi.{stack}.yaml"
    text = (ROOT / "stacks" / path.name).read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return path


def stack_plan(stack: str) -> Plan:
    """The offline plan of ``stacks/Pulumi.<stack>.yaml``, run once per session and shared."""
    if stack not in _plans:
        _plans[stack] = run_plan(ROOT, stack)
    return _plans[stack]


def whole_plan(stack: str) -> Plan:
    """The plan of an example stack's platform deployed as one stack (its ``deployment`` dropped: layer
    all), cloud resources and Kubernetes objects together. tests/core/test_deployment_layers.py shows that
    a cloud layer and its Kubernetes layer deploy exactly what this plan holds."""
    if stack not in _whole:
        _whole[stack] = config_plan(whole_config(stack), stack=stack)
    return _whole[stack]


def whole_config(stack: str) -> dict[str, Any]:
    """The platform config of an example stack as one stack deploys it (``deployment`` dropped)."""
    platform = copy.deepcopy(stack_config(stack))
    platform.pop("deployment", None)
    return platform


def only(plan: Plan, type_token: str, name_contains: str = "") -> PlanResource:
    """The single resource of a type (and name fragment): fails loudly when there are none or several."""
    found = [r for r in plan.of_type(type_token) if name_contains in r.name]
    assert len(found) == 1, (
        f"expected one {type_token} named *{name_contains}*, found {[r.name for r in found]}"
    )
    return found[0]


def policy_json(document: Any) -> dict[str, Any]:
    """An IAM policy document input (a JSON string on the wire) as a dict."""
    parsed: dict[str, Any] = json.loads(document) if isinstance(document, str) else document
    return parsed


def config_plan(
    platform: dict[str, Any], stack: str = "test", stack_outputs: dict[str, StackOutputs] | None = None
) -> Plan:
    """Plan a platform config given as data, through the same config channel `pulumi up` uses;
    ``stack_outputs`` answer its stack references (by fully qualified stack name)."""
    from lepton_infra.plan.engine import record
    from lepton_infra.program import main
    from lepton_infra.project import PLATFORM_KEY, StackConfig

    config = StackConfig(stack=stack, path=Path(f"Pulumi.{stack}.yaml"), values={PLATFORM_KEY: platform})
    return record(main, project="lepton-infra", stack=stack, config=config, stack_outputs=stack_outputs)


def spec_issues(platform: dict[str, Any]) -> list[tuple[str, str]]:
    """(field path, message) of every problem the spec finds in a platform config that must be invalid."""
    from pydantic import ValidationError

    from lepton_infra.blueprint import PlatformSpec

    try:
        PlatformSpec.model_validate(platform)
    except ValidationError as error:
        issues: list[tuple[str, str]] = []
        for detail in error.errors():
            ctx_issues = detail.get("ctx", {}).get("issues", [])
            issues += ctx_issues or [(".".join(map(str, detail["loc"])), detail["msg"])]
        return issues
    raise AssertionError("the config was expected to be invalid, but it validated")


def problems(platform: dict[str, Any]) -> dict[str, str]:
    """Field path → message of an invalid platform config, as `lepton-infra validate` reports them."""
    import pytest

    from lepton_infra.blueprint.errors import ConfigError
    from lepton_infra.project import PLATFORM_KEY, StackConfig, platform_spec

    stack = StackConfig("test", Path("Pulumi.test.yaml"), {PLATFORM_KEY: platform})
    with pytest.raises(ConfigError) as raised:
        platform_spec(stack)
    return {issue.path: issue.message for issue in raised.value.issues}


def without_teams(platform: dict[str, Any]) -> dict[str, Any]:
    """A copy of a platform config with no teams: nothing queued, no Kueue."""
    import copy

    bare = copy.deepcopy(platform)
    bare.pop("teams", None)
    bare.pop("queueing", None)
    for workload in bare.get("workloads", []):
        workload.pop("team", None)
    return bare


def stack_config(stack: str) -> dict[str, Any]:
    """The platform config of a stack file, as data to vary in a test."""
    import yaml

    document = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())
    platform: dict[str, Any] = document["config"]["lepton-infra:platform"]
    return platform


def stack_layer(stack: str) -> str:
    """The layer an example stack deploys: all, cloud or kubernetes."""
    return str(stack_config(stack).get("deployment", {}).get("layer", "all"))


# Stacks with Kubernetes objects (a layer: all or a Kubernetes layer), and stacks that build clusters.
KUBERNETES_STACKS = [s for s in STACKS if stack_layer(s) != "cloud"]
CLOUD_STACKS = [s for s in STACKS if stack_layer(s) != "kubernetes"]


@contextmanager
def running_pack(module: str) -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """A policy pack started as the Pulumi CLI starts it (its own process, the analyzer port on its first
    line of stdout), reached over loopback gRPC."""
    import grpc
    from pulumi.runtime.proto import analyzer_pb2_grpc

    process = subprocess.Popen([sys.executable, "-m", module], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        process.terminate()
        process.wait(timeout=10)


def config_problems(platform: dict[str, Any]) -> list[tuple[str, str]]:
    """(full field path, message) of every problem a user is shown for a platform config that must be
    invalid, as ``lepton-infra validate`` reports them (nested rules' paths included)."""
    from lepton_infra.errors import ConfigError
    from lepton_infra.project import PLATFORM_KEY, validate_platform

    try:
        validate_platform(platform, "test")
    except ConfigError as error:
        return [(issue.path.removeprefix(f"{PLATFORM_KEY}."), issue.message) for issue in error.issues]
    raise AssertionError("the config was expected to be invalid, but it validated")


def attached_policies(plan: Plan, role_fragment: str) -> set[str]:
    """The AWS managed policies attached by the attachments whose names hold ``role_fragment``."""
    return {
        a.inputs["policyArn"].rsplit("/", 1)[-1]
        for a in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if role_fragment in a.name
    }


def layers_of(stack: str) -> list[str]:
    """A platform's stacks: ``stack`` (layer all or cloud) and every Kubernetes layer that reads it."""
    readers = [
        s
        for s in STACKS
        if stack_layer(s) == "kubernetes"
        and str(stack_config(s)["deployment"]["cloud_stack"]).rsplit("/", 1)[-1] == stack
    ]
    return [stack, *readers]
