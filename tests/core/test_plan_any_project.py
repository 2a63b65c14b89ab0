"""`lepton-infra plan --project DIR [--stack NAME | --stack-file FILE]`: any Pulumi Python project (issue 17).

A user's own program that imports our components plans offline with its own config (Pulumi.yaml's
project-level `config:` under the stack file's), whether or not it uses the platform spec; `check` reads
the plan it writes. `--stack-file` names the config file as `pulumi up --config-file` does, inside the
project unless `--allow-outside-project`. A program that fails says where, in one or two lines, exit 2.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from plan_helpers import ROOT, run_cli
from plan_helpers import run_main as run


@pytest.mark.parametrize("example", ["byo-vpc", "byo-vnet"])
def test_each_example_plans_through_the_cli_and_exits_as_its_policies_say(
    example: str, tmp_path: Path
) -> None:
    # The command the example's README shows, run from the repository's root as it says.
    readme = (ROOT / "examples" / example / "README.md").read_text()
    [command] = re.findall(r"^lepton-infra (plan --project \S+ --stack \S+)$", readme, re.M)
    assert command == f"plan --project examples/{example} --stack dev"
    done = run_cli(*command.split(), "--json", "-")
    assert "Traceback" not in done.stderr
    plan = json.loads(done.stdout)  # the plan alone on stdout; the report on stderr
    assert plan["stack"] == "dev"
    assert any(
        r["type"] == "aws:eks/cluster:Cluster" or r["type"].startswith("azure-native:")
        for r in plan["resources"]
    )
    blocking = [v for v in plan["violations"] if v["enforcement"] == "mandatory" and "exemption" not in v]
    assert done.returncode == (1 if blocking else 0)
    assert "lepton-security (" in done.stderr and "lepton-operability (" in done.stderr
    # `check` reads what plan wrote, with the same verdict.
    saved = tmp_path / "plan.json"
    saved.write_text(done.stdout)
    checked = run_cli("check", str(saved), "--format", "json")
    assert checked.returncode == done.returncode
    assert len(json.loads(checked.stdout)["violations"]) == len(plan["violations"])


@pytest.fixture
def own_project(tmp_path: Path) -> Path:
    """A program of a user's own, no platform key: project defaults in Pulumi.yaml, a stack file over them."""
    root = tmp_path / "mine"
    root.mkdir()
    (root / "Pulumi.yaml").write_text(
        "name: mine\nruntime: python\nconfig:\n"
        "  size: 3\n"  # a plain default
        "  region:\n    type: string\n    default: eu-west-1\n"  # a declaration with a default
        "  tags:\n    value: {team: a}\n"  # an object value sits under `value:`
        "  aws:region: us-east-2\n"
    )
    (root / "Pulumi.dev.yaml").write_text(
        "config:\n  mine:size: 5\n  mine:token:\n    secure: AAABAEncrypted\n"
    )
    (root / "__main__.py").write_text(
        "import pulumi\n"
        "c = pulumi.Config()\n"
        "pulumi.export('size', c.require_int('size'))\n"
        "pulumi.export('region', c.require('region'))\n"
        "pulumi.export('tags', c.require_object('tags'))\n"
        "pulumi.export('aws_region', pulumi.Config('aws').require('region'))\n"
        "pulumi.export('token', c.require_secret('token'))\n"
    )
    return root


def test_a_program_without_the_platform_key_plans_with_its_own_config(
    own_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "plan", "--project", str(own_project), "--stack", "dev", "--json", "-")
    assert code == 0, err
    plan: dict[str, Any] = json.loads(out)
    assert plan["stack"] == "dev"
    # The stack file wins over the project's default; the project's defaults fill the rest.
    assert plan["outputs"] == {
        "size": 5,
        "region": "eu-west-1",
        "tags": {"team": "a"},
        "aws_region": "us-east-2",
        "token": "[secret]",
    }


def test_stack_file_names_the_config_and_the_stack_comes_from_its_name(
    own_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (own_project / "envs").mkdir()
    (own_project / "envs" / "Pulumi.staging.yaml").write_text("config:\n  mine:size: 7\n  mine:token: x\n")
    code, out, err = run(
        capsys,
        "plan",
        "--project",
        str(own_project),
        "--stack-file",
        str(own_project / "envs" / "Pulumi.staging.yaml"),
        "--json",
        "-",
    )
    assert code == 0, err
    plan = json.loads(out)
    assert plan["stack"] == "staging" and plan["outputs"]["size"] == 7
    assert all(r["urn"].startswith("urn:pulumi:staging::mine::") for r in plan["resources"])


def test_a_stack_file_outside_the_project_needs_the_flag(
    own_project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path / "Pulumi.ext.yaml"
    outside.write_text("config:\n  mine:token: x\n")
    code, out, err = run(capsys, "plan", "--project", str(own_project), "--stack-file", str(outside))
    assert code == 2 and "outside the project" in err and "--allow-outside-project" in err and not out
    code, out, err = run(
        capsys, "plan", "--project", str(own_project), "--stack-file", str(outside), "--allow-outside-project"
    )
    assert code == 0, err


def test_a_stack_file_that_is_not_there_is_named(
    own_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, "plan", "--project", str(own_project), "--stack-file", str(own_project / "nope.yaml")
    )
    assert code == 2 and "nope.yaml" in err and "no such file" in err


def test_a_failing_program_says_where_without_a_traceback(
    own_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main_py = own_project / "__main__.py"
    main_py.write_text(main_py.read_text() + "raise KeyError('boom')\n")
    code, out, err = run(capsys, "plan", "--project", str(own_project), "--stack", "dev")
    assert code == 2 and not out
    assert "error: the program raised KeyError: 'boom'" in err
    assert "at __main__.py:8: raise KeyError('boom')" in err


def test_missing_required_config_is_pulumis_own_message(
    own_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (own_project / "Pulumi.bare.yaml").write_text("config: {}\n")
    code, _, err = run(capsys, "plan", "--project", str(own_project), "--stack", "bare")
    assert code == 2
    assert "Missing required configuration variable 'mine:token'" in err


def test_our_project_still_requires_the_platform_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "project"
    (root / "stacks").mkdir(parents=True)
    shutil.copy(ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    shutil.copy(ROOT / "__main__.py", root / "__main__.py")
    (root / "stacks" / "Pulumi.empty.yaml").write_text("config:\n  aws:region: us-west-2\n")
    code, _, err = run(capsys, "plan", "--project", str(root), "--stack", "empty")
    assert code == 2 and "lepton-infra:platform" in err and "required key is missing" in err


def test_a_platform_stack_kept_outside_stacks_validates_with_stack_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "project"
    (root / "stacks").mkdir(parents=True)
    (root / "elsewhere").mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    shutil.copy(ROOT / "stacks" / "Pulumi.aws-dev.yaml", root / "elsewhere" / "Pulumi.team-b.yaml")
    code, out, err = run(
        capsys,
        "validate",
        "--project",
        str(root),
        "--stack-file",
        str(root / "elsewhere" / "Pulumi.team-b.yaml"),
    )
    assert code == 0, err
    assert out.startswith("team-b: valid")


def test_a_config_error_raised_inside_a_program_keeps_its_file_and_field(
    own_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Our own program validates the platform key through the same ConfigError the CLI renders.
    main_py = own_project / "__main__.py"
    main_py.write_text(
        "from lepton_infra.errors import ConfigError, ConfigIssue\n"
        "raise ConfigError('Pulumi.dev.yaml', [ConfigIssue('mine:size', 'too large', 3)])\n"
    )
    code, out, err = run(capsys, "plan", "--project", str(own_project), "--stack", "dev")
    assert code == 2 and not out
    assert "Pulumi.dev.yaml:3: mine:size: too large" in err and "the program raised" not in err


def test_manifests_of_a_programs_own_kubernetes_objects(
    own_project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main_py = own_project / "__main__.py"
    main_py.write_text(
        main_py.read_text() + "import pulumi_kubernetes as k8s\n"
        "k8s.core.v1.ConfigMap('settings', metadata={'name': 'settings'}, data={'replicas': '2'})\n"
    )
    out_dir = tmp_path / "manifests"
    code, out, err = run(
        capsys, "plan", "--project", str(own_project), "--stack", "dev", "--manifests", str(out_dir)
    )
    assert code == 0, err
    assert f"1 manifest file(s) written to {out_dir}" in out
    [written] = out_dir.iterdir()
    text = written.read_text()
    assert text.startswith("# ") and "offline plan" in text
    [config_map] = [doc for doc in yaml.safe_load_all(text) if doc]
    assert config_map == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings"},
        "data": {"replicas": "2"},
    }
