"""`lepton-infra check` on files anyone can write: it never crashes and never passes what it could not read.

Source: issue 15 item 10. An adversarial pass found `{"resources": "abc"}`, resource entries that are
numbers, steps whose `newState` is a string and `{"resources": {"a": 1}}` all printing "No policy
violations." with exit 0, and a 100,000-bracket file ending in a RecursionError traceback. Exit 2 with
one line naming the file and the field is the contract (ARCHITECTURE.md, CLI `check`: 2 on bad input,
1 for violations only).
"""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lepton_infra.cli.check import check_command
from lepton_infra.plan.loaders import load_plan
from lepton_infra.plan.shapes import MAX_DEPTH

URN = "urn:pulumi:dev::lepton-infra::aws:s3/bucketV2:BucketV2::artifacts"
BUCKET = {"urn": URN, "type": "aws:s3/bucketV2:BucketV2", "custom": True, "inputs": {"bucket": "artifacts"}}
REVIEWED = Path(__file__).parents[1] / "operability" / "plans_ae54ed7" / "aws-dev.json.gz"

# Values of every JSON type but the one a field must have.
JUNK: dict[str, Any] = {
    "a string": "abc",
    "a number": 5,
    "a boolean": True,
    "a list": [1],
    "an object": {"a": 1},
}


def _as_plan(resources: Any) -> dict[str, Any]:
    return {"stack": "dev", "resources": resources}


def _as_preview(resources: Any) -> dict[str, Any]:
    steps = (
        resources if not isinstance(resources, list) else [{"op": "create", "newState": r} for r in resources]
    )
    return {"steps": steps}


def _as_export(resources: Any) -> dict[str, Any]:
    return {"version": 3, "deployment": {"manifest": {}, "resources": resources}}


FORMS = {
    "plan": (_as_plan, "resources"),
    "preview": (_as_preview, "steps"),
    "export": (_as_export, "deployment.resources"),
}
ENTRY = {"plan": "resources[0]", "preview": "steps[0].newState", "export": "deployment.resources[0]"}


def _refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], document: Any, *expected: str) -> None:
    path = tmp_path / "plan.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    code = check_command(path, "text", None)
    out = capsys.readouterr().out
    assert (code, out.count("\n")) == (2, 1), out
    assert out.startswith(f"error: {path}: "), out
    for fragment in expected:
        assert fragment in out, out


# --- the list of resources is a list --------------------------------------------------------------------


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("junk", [k for k in JUNK if k != "a list"])
def test_a_resource_list_that_is_not_a_list_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], form: str, junk: str
) -> None:
    wrap, where = FORMS[form]
    _refused(tmp_path, capsys, wrap(JUNK[junk]), f"{where} is {junk}, not a list")


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("entry", [1, "x", True, [URN]])
def test_an_entry_that_is_not_an_object_is_refused_not_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], form: str, entry: Any
) -> None:
    wrap, _ = FORMS[form]
    # A readable bucket first: the junk after it must not be dropped while the bucket is judged.
    document = wrap([BUCKET, entry])
    where = ENTRY[form].replace("[0]", "[1]")
    _refused(tmp_path, capsys, document, f"{where} is ", "not an object")


def test_a_step_that_is_not_an_object_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _refused(tmp_path, capsys, {"steps": [{"op": "same", "newState": BUCKET}, 7]}, "steps[1] is a number")


def test_a_deployment_that_is_not_an_object_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _refused(tmp_path, capsys, {"deployment": [BUCKET]}, "deployment is a list, not an object")


# --- each engine field has the engine's type ------------------------------------------------------------

FIELDS: dict[str, tuple[str, ...]] = {
    "inputs": ("an object",),
    "outputs": ("an object",),
    "options": ("an object",),
    "custom": ("a boolean",),
    "protect": ("a boolean",),
    "name": ("a string",),
    "parent": ("a string",),
    "provider": ("a string",),
    "dependencies": ("a list",),
    "propertyDependencies": ("an object",),
}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    ("field", "junk"), [(f, j) for f, allowed in FIELDS.items() for j in JUNK if j not in allowed]
)
def test_a_field_of_the_wrong_type_is_refused_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], form: str, field: str, junk: str
) -> None:
    wrap, _ = FORMS[form]
    _refused(tmp_path, capsys, wrap([{**BUCKET, field: JUNK[junk]}]), f"{ENTRY[form]}.{field} is {junk}")


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    "urn", [None, 5, "", "artifacts", "urn:pulumi:dev::artifacts", ["urn:pulumi:a::b::c::d"]]
)
def test_a_resource_without_a_pulumi_urn_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], form: str, urn: Any
) -> None:
    wrap, _ = FORMS[form]
    entry = {k: v for k, v in BUCKET.items() if k != "urn" or urn is not None}
    if urn is not None:
        entry["urn"] = urn
    _refused(tmp_path, capsys, wrap([entry]), f"{ENTRY[form]}.urn is ", "not a Pulumi URN")


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("type_", [None, "", 3, {"t": 1}])
def test_a_resource_without_a_type_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], form: str, type_: Any
) -> None:
    wrap, _ = FORMS[form]
    _refused(tmp_path, capsys, wrap([{**BUCKET, "type": type_}]), f"{ENTRY[form]}.type is ")


@pytest.mark.parametrize(
    ("dependencies", "where"),
    [
        ([URN, 3], "dependencies[1]"),
        ({"bucket": "urn"}, "propertyDependencies.bucket"),
        ({"b": [None]}, "b[0]"),
    ],
)
def test_dependencies_are_lists_of_urns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], dependencies: Any, where: str
) -> None:
    key = "dependencies" if isinstance(dependencies, list) else "propertyDependencies"
    _refused(tmp_path, capsys, _as_plan([{**BUCKET, key: dependencies}]), where)


def test_a_plan_whose_stack_is_not_a_string_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _refused(tmp_path, capsys, {"stack": ["dev"], "resources": []}, "stack is a list")


# --- nesting ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1_000, 100_000])
@pytest.mark.parametrize("where", ["top", "inputs"])
def test_nesting_past_the_limit_is_one_line_however_deep(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], depth: int, where: str
) -> None:
    # 100,000 brackets were a RecursionError traceback from Python's JSON reader.
    nested = "[" * depth + "]" * depth
    inputs = json.dumps({**BUCKET, "inputs": {"x": "@"}}).replace('"@"', nested)
    document = nested if where == "top" else json.dumps(_as_plan(["@"])).replace('"@"', inputs)
    _refused(tmp_path, capsys, document, f"nested deeper than {MAX_DEPTH} levels")


def test_nesting_at_the_limit_is_read(tmp_path: Path) -> None:
    inputs: Any = "leaf"
    for _ in range(MAX_DEPTH - 4):  # the plan, its list, the resource and its inputs are four levels
        inputs = [inputs]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(_as_plan([{**BUCKET, "inputs": {"x": inputs}}])))
    assert load_plan(path).resources[0].urn == URN


# --- what the engine really writes still reads ----------------------------------------------------------


def test_what_the_engine_omits_or_writes_as_null_is_read(tmp_path: Path) -> None:
    # A preview's deletions have no newState; the engine writes absent lists and maps as null.
    sparse = {"urn": URN, "type": BUCKET["type"], "inputs": None, "dependencies": None, "parent": None}
    document = {"steps": [{"op": "delete", "oldState": BUCKET}, {"op": "create", "newState": sparse}]}
    path = tmp_path / "preview.json"
    path.write_text(json.dumps(document))
    plan = load_plan(path)
    assert [(r.urn, r.inputs, r.dependencies) for r in plan.resources] == [(URN, {}, ())]


def test_an_empty_stack_export_is_an_empty_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps({"version": 3, "deployment": {"manifest": {}, "resources": None}}))
    assert check_command(path, "text", None) == 0


# --- mutations of a real plan: no crash in any policy ---------------------------------------------------


def _reviewed() -> dict[str, Any]:
    with gzip.open(REVIEWED, "rt", encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


PLAN = _reviewed()
# The resources whose inputs the rules read most: one of each type keeps an example fast.
SAMPLES = list({r["type"]: i for i, r in enumerate(PLAN["resources"]) if r.get("custom", True)}.values())

# Values a hostile or broken file puts where a rule expects another shape.
hostile_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True)
    | st.sampled_from(["", "*", "0.0.0.0/0", "::/0", "[secret]", "04da6b54-80e4-46f7-96ec-b56ff0331ba9"])
    | st.text(max_size=8)
    | st.just({"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "AAA"})
    | st.just({"4dabf18193072939515e22adb298388d": "c44067f5952c0a294b673a41bacd8c17", "path": 5}),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sample=st.sampled_from(SAMPLES), pick=st.integers(min_value=0), value=hostile_values, data=st.data())
def test_no_mutation_of_a_real_plan_crashes_a_policy(  # noqa: PLR0917 (hypothesis passes them by name)
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    sample: int,
    pick: int,
    value: Any,
    data: st.DataObject,
) -> None:
    document = copy.deepcopy(PLAN)
    resource = document["resources"][sample]
    paths = _paths(resource.setdefault("inputs", {}))
    path = paths[pick % len(paths)]
    if path:
        parent = resource["inputs"]
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = value
    else:
        resource["inputs"] = value if data.draw(st.booleans()) else {"x": value}
    file = tmp_path / "mutated.json"
    file.write_text(json.dumps(document))
    fmt = data.draw(st.sampled_from(["text", "json", "sarif", "junit"]))
    code = check_command(file, fmt, None)  # any exception fails the test
    out = capsys.readouterr().out
    assert code in (0, 1, 2)
    if code == 2:
        assert out.startswith("error:") and out.count("\n") == 1, out
