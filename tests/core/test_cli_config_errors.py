"""Bad config exits 2 naming the file, the line, the field path and what is allowed; never a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from plan_helpers import ROOT

from lepton_infra.cli import main


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "stacks").mkdir()
    shutil.copy(ROOT / "stacks" / "Pulumi.aws-dev.yaml", tmp_path / "stacks" / "Pulumi.aws-dev.yaml")
    return tmp_path


def edit(project: Path, old: str, new: str) -> Path:
    path = project / "stacks" / "Pulumi.aws-dev.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_valid_stack_validates(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", "--project", str(project))
    assert code == 0
    assert "aws-dev: valid (1 site(s), 2 workload(s))" in out


def test_misspelled_key_names_file_line_path_and_the_allowed_keys(project: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    edit(project, "spot: true", "spto: true")
    code, _, err = run(capsys, "validate", "--project", str(project))
    assert code == 2
    assert "Traceback" not in err
    line = next(
        i
        for i, text in enumerate((project / "stacks/Pulumi.aws-dev.yaml").read_text().splitlines(), 1)
        if "spto" in text
    )
    assert f"Pulumi.aws-dev.yaml:{line}: lepton-infra:platform.sites[0].gpu_pools[0].spto:" in err
    assert (
        "unknown key (did you mean 'spot'?); allowed: accelerator, capacity_reservation_ids, disk_gib, efa"
        in err
    )
    assert "Tuple should have" not in err


def test_wrong_type_and_enum_value_say_what_is_allowed(project: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    edit(
        project,
        "accelerator: L4, min_nodes: 0, max_nodes: 4",
        "accelerator: V100, min_nodes: 0, max_nodes: many",
    )
    code, _, err = run(capsys, "validate", "--project", str(project))
    assert code == 2
    assert "gpu_pools[0].accelerator: Input should be 'H100', 'A100-80GB'" in err
    assert "gpu_pools[0].max_nodes: expected an integer, got the string 'many'" in err


def test_cross_field_rule_points_at_the_offending_field(project: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    edit(project, "gpus_per_node: 1", "gpus_per_node: 4")
    code, _, err = run(capsys, "validate", "--project", str(project))
    assert code == 2
    assert "lepton-infra:platform.workloads[0].gpus_per_node: 4 GPUs per pod" in err
    line = next(
        i
        for i, text in enumerate((project / "stacks/Pulumi.aws-dev.yaml").read_text().splitlines(), 1)
        if "gpus_per_node: 4" in text
    )
    assert f"Pulumi.aws-dev.yaml:{line}:" in err


def test_malformed_yaml_is_reported_with_its_line(project: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    edit(project, "    name: lepton\n", "    name: [lepton\n")
    code, _, err = run(capsys, "validate", "--project", str(project))
    assert code == 2
    assert "malformed YAML" in err and "Traceback" not in err


def test_unknown_stack_lists_the_known_ones(project: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run(capsys, "validate", "--project", str(project), "--stack", "nope")
    assert code == 2
    assert "no stack file for 'nope'; stacks: aws-dev" in err


def test_plan_refuses_bad_config_before_running_anything(project: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    edit(project, "max_nodes: 3", "max_nodes: 1")
    code, out, err = run(capsys, "plan", "--project", str(project))
    assert code == 2
    assert "system_pool: min_nodes (2) must not exceed max_nodes (1)" in err
    assert out == ""


def test_every_stack_of_the_project_validates(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate", "--all", "--project", str(ROOT))
    assert code == 0, err
    assert "aws-prod: valid" in out


def test_schema_is_json_schema_with_descriptions(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "schema")
    schema = json.loads(out)
    assert code == 0
    platform = schema["$defs"]["PlatformSpec"]
    assert schema["properties"]["config"]["properties"]["lepton-infra:platform"]["$ref"].endswith(
        "/PlatformSpec"
    )
    assert "sites" in platform["required"]
    assert platform["properties"]["sites"]["description"]


def test_the_program_reports_the_problems_validate_reports(project: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    import pulumi
    import yaml

    from lepton_infra.plan.engine import record
    from lepton_infra.program import main as program
    from lepton_infra.project import PLATFORM_KEY, StackConfig

    path = edit(project, "spot: true", "spto: true")
    _, _, err = run(capsys, "validate", "--project", str(project))
    platform = yaml.safe_load(path.read_text())["config"][PLATFORM_KEY]
    config = StackConfig(stack="aws-dev", path=path, values={PLATFORM_KEY: platform})
    with pytest.raises(pulumi.RunError) as raised:
        record(program, project="lepton-infra", stack="aws-dev", config=config)
    # Under `pulumi up` there is no stack file to point into: the same problems, without line numbers.
    message = str(raised.value)
    assert message.startswith("invalid configuration in stack 'aws-dev' config (Pulumi.aws-dev.yaml)")
    problems = [line.split(": ", 1)[1] for line in message.splitlines()[1:]]
    assert problems and problems == [line.split(": ", 1)[1] for line in err.splitlines()[1:]]
