"""Paths the CLI reads and writes (issue 15 items 4 and 12).

`--stack` names a stack, never a path: a name that is not a stack name, or a stack file that resolves
outside the project (a `..` in `stackConfigDir`, a link), is refused unless `--allow-outside-project` says
otherwise. `--json` and `--manifests` are checked before the plan runs: a missing folder, a directory given
as a file, a file given as a folder are one `error:` line and exit 2, with nothing printed before it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from plan_helpers import ROOT
from plan_helpers import run_main as run

STACK = ROOT / "stacks" / "Pulumi.aws-dev.yaml"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "stacks").mkdir(parents=True)
    shutil.copy(ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    shutil.copy(ROOT / "__main__.py", root / "__main__.py")
    shutil.copy(STACK, root / "stacks" / "Pulumi.aws-dev.yaml")
    return root


@pytest.mark.parametrize(
    "stack",
    [
        "../aws-dev",
        "../../etc/passwd",
        "/etc/passwd",
        "stacks/aws-dev",
        "aws-dev/../aws-dev",
        "..\\aws-dev",
        "aws dev",
        "",
        "a" * 101,
        "org/project/aws-dev",
        "aws-dev\x00",
    ],
)
@pytest.mark.parametrize("command", ["validate", "plan"])
def test_a_stack_that_is_not_a_stack_name_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str], stack: str, command: str
) -> None:
    code, out, err = run(capsys, command, "--project", str(project), "--stack", stack)
    assert code == 2
    assert "is not a stack name" in err and out == ""


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_a_stack_config_dir_outside_the_project_needs_the_flag(
    project: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    outside = project.parent / "elsewhere"
    outside.mkdir()
    shutil.copy(STACK, outside / "Pulumi.aws-dev.yaml")
    pulumi_yaml = project / "Pulumi.yaml"
    pulumi_yaml.write_text(
        pulumi_yaml.read_text().replace("stackConfigDir: stacks", "stackConfigDir: ../elsewhere")
    )
    code, out, err = run(capsys, command, "--project", str(project))
    assert code == 2 and out == ""
    assert "outside the project" in err and "--allow-outside-project" in err
    code, _, _ = run(capsys, "validate", "--project", str(project), "--allow-outside-project")
    assert code == 0


def test_a_stack_file_linked_from_outside_the_project_needs_the_flag(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = project.parent / "secret-stack.yaml"
    shutil.copy(STACK, target)
    link = project / "stacks" / "Pulumi.aws-dev.yaml"
    link.unlink()
    os.symlink(target, link)
    code, _, err = run(capsys, "validate", "--project", str(project))
    assert code == 2 and "outside the project" in err
    assert run(capsys, "validate", "--project", str(project), "--allow-outside-project")[0] == 0


def test_a_link_inside_the_project_is_fine(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    real = project / "stacks" / "real.yaml"
    (project / "stacks" / "Pulumi.aws-dev.yaml").rename(real)
    os.symlink(real, project / "stacks" / "Pulumi.aws-dev.yaml")
    assert run(capsys, "validate", "--project", str(project))[0] == 0


def _paths(project: Path) -> dict[str, tuple[list[str], str]]:
    """Output arguments that cannot be written, and the sentence each gets."""
    a_file = project / "a-file.txt"
    a_file.write_text("x")
    folder = project / "out"
    folder.mkdir(exist_ok=True)
    return {
        "json into a missing folder": (["--json", str(project / "missing" / "plan.json")], "does not exist"),
        "json into a deep missing folder": (
            ["--json", str(project / "a" / "b" / "c.json")],
            "does not exist",
        ),
        "json is a directory": (["--json", str(folder)], "is a directory"),
        "json under a file": (["--json", str(a_file / "plan.json")], "is a file, not a folder"),
        "manifests is a file": (["--manifests", str(a_file)], "is a file, not a folder"),
        "manifests under a missing folder": (
            ["--manifests", str(project / "missing" / "manifests")],
            "does not exist",
        ),
        "manifests under a file": (["--manifests", str(a_file / "manifests")], "does not exist"),
        "both wrong": (["--json", str(folder), "--manifests", str(a_file)], "is a directory"),
    }


CASES = [
    "json into a missing folder",
    "json into a deep missing folder",
    "json is a directory",
    "json under a file",
    "manifests is a file",
    "manifests under a missing folder",
    "manifests under a file",
    "both wrong",
]


@pytest.mark.parametrize("case", CASES)
def test_an_output_that_cannot_be_written_is_refused_before_the_plan_runs(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    def never(*_: object) -> None:
        raise AssertionError("the plan ran before its outputs were checked")

    monkeypatch.setattr("lepton_infra.plan.engine.run_program", never)
    argv, sentence = _paths(project)[case]
    code, out, err = run(capsys, "plan", "--project", str(project), *argv)
    assert code == 2
    assert out == ""  # nothing that reads as a result, let alone a success
    assert err.startswith("error: --") and sentence in err
    assert len(err.strip().splitlines()) == (2 if case == "both wrong" else 1)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_folder_is_refused(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locked = project / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    code, _, err = run(capsys, "plan", "--project", str(project), "--json", str(locked / "p.json"))
    assert code == 2 and "not writable" in err


def test_writable_outputs_are_written_and_a_new_manifests_folder_is_made(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_json, manifests = project / "plan.json", project / "manifests"
    code, out, _ = run(
        capsys, "plan", "--project", str(project), "--pack", "lepton-security",
        "--json", str(out_json), "--manifests", str(manifests),
    )  # fmt: skip
    assert code in (0, 1)
    assert out_json.is_file() and any(manifests.glob("*.yaml"))
    assert f"plan written to {out_json}" in out
