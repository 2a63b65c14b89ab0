"""`lepton-infra check` streams a saved plan and keeps only what the rules read: same findings as reading
it whole.

Source: issue 15 item 13 (a 40 MB plan peaked at 171 MB, json.loads holding the text and every value of
it; `python -m bench.check_memory` measures the streamed reader against the file size). What the stream
drops (outputs, a step's old state, the export's manifest, the plan's own violations) no rule reads; this
proves it on every reviewed plan, in each of the three forms a plan comes in.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lepton_infra.plan.loaders import load_plan, plan_from_json
from lepton_infra.plan.packs import evaluate_packs

REVIEWED = sorted((Path(__file__).parents[1] / "operability" / "plans_ae54ed7").glob("*.json.gz"))


def _plan(document: dict[str, Any]) -> dict[str, Any]:
    # Top-level fields a reader reads beside the resources (main's `sourceRoot`) survive the stream.
    return {**document, "sourceRoot": "examples/byo-vpc"}


def _export(document: dict[str, Any]) -> dict[str, Any]:
    # An export carries outputs and a manifest, which no rule reads and the stream never builds.
    resources = [
        {**r, "outputs": {"id": "x", "arn": "arn:aws:x", **r.get("inputs", {})}}
        for r in document["resources"]
    ]
    manifest = {"time": "2026-11-25T10:00:00Z", "version": "v3.272.0"}
    return {"version": 3, "deployment": {"manifest": manifest, "resources": resources}}


def _preview(document: dict[str, Any]) -> dict[str, Any]:
    steps = [
        {"op": "update", "oldState": r, "newState": r, "detailedDiff": {}} for r in document["resources"]
    ]
    return {"config": {"aws:region": "us-west-2"}, "steps": steps}


FORMS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "plan": _plan,
    "export": _export,
    "preview": _preview,
}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("reviewed", REVIEWED, ids=lambda p: p.name.removesuffix(".json.gz"))
def test_every_rule_finds_the_same_on_the_streamed_plan(tmp_path: Path, reviewed: Path, form: str) -> None:
    with gzip.open(reviewed, "rt", encoding="utf-8") as f:
        document = FORMS[form](json.load(f))
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(document))
    whole = plan_from_json(json.loads(path.read_text()))
    streamed = load_plan(path)
    assert streamed == whole  # the stack, its source root, every resource field
    assert evaluate_packs(streamed) == evaluate_packs(whole)


@pytest.mark.parametrize("value", ["NaN", "Infinity", str(2**70)])
def test_what_only_pythons_reader_takes_is_still_read(tmp_path: Path, value: str) -> None:
    # The C parser refuses NaN and integers past 64 bits, which Python's json (and so json.dumps of a
    # float('nan')) writes: such a file is read whole, as before.
    path = tmp_path / "plan.json"
    bucket = '{"urn": "urn:pulumi:dev::p::aws:s3/bucketV2:BucketV2::b", "type": "aws:s3/bucketV2:BucketV2"'
    path.write_text(f'{{"resources": [{bucket}, "inputs": {{"size": {value}}}}}]}}')
    assert [r.urn.rsplit("::", 1)[-1] for r in load_plan(path).resources] == ["b"]


def test_an_entry_of_a_list_that_is_not_the_plan_is_not_judged(tmp_path: Path) -> None:
    # The form is chosen as before (steps, then deployment, then resources): a junk entry in a list the
    # chosen form does not read is no error, however early the stream met it.
    path = tmp_path / "preview.json"
    state = {"urn": "urn:pulumi:dev::p::aws:s3/bucketV2:BucketV2::b", "type": "aws:s3/bucketV2:BucketV2"}
    path.write_text(json.dumps({"resources": [5], "steps": [{"op": "create", "newState": state}]}))
    assert [r.urn for r in load_plan(path).resources] == [state["urn"]]
