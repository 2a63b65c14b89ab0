"""Findings of a component program point at the line of the user's program that built the resource
(issue 17), in text, JSON findings and SARIF that GitHub code scanning accepts.

GitHub's requirements ("SARIF support for code scanning",
https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning):
`physicalLocation.artifactLocation.uri` is best a path relative to the root of the repository analysed,
and `region.startLine` is required (1-based; also sarif-sdk's GitHub ingestion rule GH1003). A result
without a physical location makes the whole upload fail ("locationFromSarifResult: expected artifact
location" / "expected at least one location": github/codeql-action#1738, forcedotcom/code-analyzer#1970).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from op_fixtures import before
from plan_helpers import ROOT, run_cli, stack_plan

from lepton_infra.plan.engine import run_program
from lepton_infra.plan.loaders import PlanLoadError, load_plan
from lepton_infra.project import find_project, read_stack_config

EXAMPLES = ["byo-vpc", "byo-vnet"]


def _component(urn: str) -> str:
    """The name part of the top-level component's type: ``EksCluster`` of ``lepton:aws:EksCluster$...``."""
    return urn.split("::")[2].split("$", maxsplit=1)[0].rsplit(":", 1)[-1]


def _results(sarif: str) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = json.loads(sarif)["runs"][0]["results"]
    return results


@pytest.fixture(scope="module", params=EXAMPLES)
def saved(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The example planned as its README says, from the repository root, and saved with `--json`."""
    example: str = request.param
    path = tmp_path_factory.mktemp(example) / "plan.json"
    done = run_cli("plan", "--project", f"examples/{example}", "--stack", "dev", "--json", str(path))
    assert "Traceback" not in done.stderr and path.is_file()
    # `plan` prints each finding's program line too.
    assert f"  at examples/{example}/__main__.py:" in done.stdout
    return example, path


def test_sarif_results_carry_the_program_line_that_builds_the_component(saved: tuple[str, Path]) -> None:
    example, path = saved
    done = run_cli("check", str(path), "--format", "sarif")
    results = _results(done.stdout)
    assert results
    program = ROOT / "examples" / example / "__main__.py"
    lines = program.read_text().splitlines()
    for result in results:
        [location] = result["locations"]
        physical = location["physicalLocation"]
        # Relative to the repository root, as code scanning resolves it.
        assert physical["artifactLocation"]["uri"] == f"examples/{example}/__main__.py"
        line = physical["region"]["startLine"]
        assert line >= 1
        urn = location["logicalLocations"][0]["fullyQualifiedName"]
        # The line really is the constructor call of the component the resource belongs to.
        assert _component(urn) in lines[line - 1], (urn, lines[line - 1])


def test_json_findings_and_text_name_the_same_line_from_any_directory(
    saved: tuple[str, Path], tmp_path: Path
) -> None:
    example, path = saved
    # The plan says where its project lies in the repository: a check run elsewhere names the same file.
    findings = json.loads(run_cli("check", str(path), "--format", "json", cwd=tmp_path).stdout)
    sarif = _results(run_cli("check", str(path), "--format", "sarif", cwd=tmp_path).stdout)
    located = [v["location"] for v in findings["violations"]]
    assert located and {where["file"] for where in located} == {f"examples/{example}/__main__.py"}
    assert len(located) == len(sarif)
    for where, result in zip(located, sarif, strict=True):
        physical = result["locations"][0]["physicalLocation"]
        assert where == {"file": physical["artifactLocation"]["uri"], "line": physical["region"]["startLine"]}
    text = run_cli("check", str(path), cwd=tmp_path).stdout
    assert all(f"at {where['file']}:{where['line']}" in text for where in located)


@pytest.mark.parametrize("venv_inside", [False, True])
def test_children_of_a_component_take_the_line_of_the_call_in_the_users_files(
    tmp_path: Path, venv_inside: bool
) -> None:
    """A helper module of the project is the innermost project frame; a child created on the event loop
    (inside an `apply` of the library) takes its component's line. The library is never the project's
    code, also when it is installed in a virtualenv inside the project directory."""
    project = tmp_path / "mine"
    library = project / ".venv/lib/python3.11/site-packages" if venv_inside else tmp_path / "lib"
    library.mkdir(parents=True)
    project.mkdir(exist_ok=True)
    (library / "fakelib.py").write_text(
        "import pulumi\n"
        "class Part(pulumi.ComponentResource):\n"
        "    def __init__(self, name, opts=None):\n"
        "        super().__init__('fake:index:Part', name, None, opts)\n"
        "class Kit(pulumi.ComponentResource):\n"
        "    def __init__(self, name):\n"
        "        super().__init__('fake:index:Kit', name, None, None)\n"
        "        Part(f'{name}-now', pulumi.ResourceOptions(parent=self))\n"
        "        pulumi.Output.from_input(1).apply(\n"
        "            lambda _: Part(f'{name}-later', pulumi.ResourceOptions(parent=self)))\n"
    )
    (project / "Pulumi.yaml").write_text("name: mine\nruntime: python\n")
    (project / "Pulumi.dev.yaml").write_text("config: {}\n")
    (project / "network.py").write_text("import fakelib\ndef build():\n    return fakelib.Kit('net')\n")
    (project / "__main__.py").write_text(
        f"import sys\nsys.path.insert(0, {str(library)!r})\nimport fakelib, network\n\n"
        "fakelib.Kit('app')\nnetwork.build()\n"
    )
    root = find_project(project)
    search_path = list(sys.path)
    try:
        plan = run_program(root, read_stack_config(root, "dev"))
    finally:
        # The program put its library on the path, as a user's may: later tests of this worker must not
        # import from (or scan for distributions in) a temporary directory.
        sys.path[:] = search_path
        sys.modules.pop("fakelib", None)
        sys.modules.pop("network", None)
    where = {r.name: (r.source.file, r.source.line) for r in plan.resources if r.source}
    assert where == {
        "app": ("__main__.py", 5),
        "app-now": ("__main__.py", 5),
        "app-later": ("__main__.py", 5),
        "net": ("network.py", 3),
        "net-now": ("network.py", 3),
        "net-later": ("network.py", 3),
    }


def test_platform_stacks_record_no_program_lines_and_every_sarif_result_has_a_file(
    tmp_path: Path,
) -> None:
    """The stack file places a platform stack's resources; a finding it does not place (the whole stack's,
    or a resource outside any site) goes to the stack file's first line, never to no file at all."""
    fresh = stack_plan("aws-dev").to_json()
    assert "sourceRoot" not in fresh and not any("source" in r for r in fresh["resources"])
    saved = tmp_path / "aws-dev.json"
    saved.write_text(json.dumps(before("aws-dev").to_json()))
    results = _results(run_cli("check", str(saved), "--format", "sarif").stdout)
    assert results
    for result in results:
        physical = result["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uri"] == "stacks/Pulumi.aws-dev.yaml"
        assert physical["region"]["startLine"] >= 1


def test_sarif_of_a_plan_from_no_project_still_names_a_file(tmp_path: Path) -> None:
    """A preview with no project around it: findings are put on the checked file itself."""
    preview = {
        "steps": [
            {
                "newState": {
                    "urn": "urn:pulumi:dev::elsewhere::aws:s3/bucketV2:BucketV2::logs",
                    "type": "aws:s3/bucketV2:BucketV2",
                    "custom": True,
                    "inputs": {},
                }
            }
        ]
    }
    path = tmp_path / "preview.json"
    path.write_text(json.dumps(preview))
    results = _results(run_cli("check", str(path), "--format", "sarif", cwd=tmp_path).stdout)
    assert results
    for result in results:
        physical = result["locations"][0]["physicalLocation"]
        assert physical == {"artifactLocation": {"uri": "preview.json"}, "region": {"startLine": 1}}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("__main__.py:3", "resources[0].source is a string, not an object"),
        ({"file": "", "line": 3}, "resources[0].source.file is empty, not a file name"),
        ({"file": "__main__.py", "line": 0}, "resources[0].source.line is 0, not a line number"),
        ({"file": "__main__.py", "line": True}, "resources[0].source.line is True, not a line number"),
    ],
)
def test_a_bad_source_in_a_saved_plan_is_refused_naming_the_field(
    tmp_path: Path, source: object, message: str
) -> None:
    resource = {"urn": "urn:pulumi:dev::mine::test:index:Thing::a", "type": "test:index:Thing"}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({"resources": [{**resource, "source": source}]}))
    with pytest.raises(PlanLoadError, match=re.escape(message)):
        load_plan(path)
