"""`lepton-infra diff OLD.json NEW.json` (issue 17): what a pull request adds, removes and changes.

Replacement verdicts come from Kubernetes' immutable fields (sources in lepton_infra/plan/replacement.py:
pulumi-kubernetes provider/pkg/provider/diff.go `forceNew` (read at cafe8c4); kubernetes/kubernetes#89657
for a Job's template; the StatefulSet update validation's "updates to statefulset spec for fields other
than ... are forbidden"; the API server's "spec is immutable after creation except resources.requests and
volumeAttributesClassName for bound claims"). Cloud resources are "unknown offline": the installed SDKs
carry no replacement data.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from plan_helpers import config_plan, stack_config

from lepton_infra.cli import main

STACK = "urn:pulumi:dev::p::"


def resource(type_: str, name: str, inputs: dict[str, Any], custom: bool = True) -> dict[str, Any]:
    return {"urn": f"{STACK}{type_}::{name}", "type": type_, "name": name, "custom": custom, "inputs": inputs}


def pod(image: str) -> dict[str, Any]:
    return {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "main", "image": image}]}}


BEFORE = [
    resource(
        "kubernetes:batch/v1:Job", "train", {"metadata": {"name": "train"}, "spec": {"template": pod("a:1")}}
    ),
    resource(
        "kubernetes:apps/v1:Deployment",
        "serve",
        {"metadata": {"name": "serve"}, "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "x"}}}},
    ),
    resource(
        "kubernetes:apps/v1:StatefulSet",
        "db",
        {
            "spec": {
                "serviceName": "db",
                "volumeClaimTemplates": [{"metadata": {"name": "data"}}],
                "replicas": 1,
            }
        },
    ),
    resource(
        "kubernetes:core/v1:PersistentVolumeClaim",
        "data",
        {"spec": {"storageClassName": "gp3", "resources": {"requests": {"storage": "10Gi"}}}},
    ),
    resource("aws:s3/bucket:Bucket", "artifacts", {"bucket": "a"}),
    resource("aws:iam/role:Role", "old-role", {"name": "r"}),
    resource(
        "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
        "readers",
        {"roleRef": {"kind": "Role", "name": "reader"}, "subjects": [{"kind": "User", "name": "a"}]},
    ),
]


def write(path: Path, resources: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"stack": "dev", "resources": resources, "violations": []}))
    return path


def diff(tmp_path: Path, capsys: pytest.CaptureFixture[str], after: list[dict[str, Any]]) -> dict[str, Any]:
    old, new = write(tmp_path / "old.json", BEFORE), write(tmp_path / "new.json", after)
    assert main(["diff", str(old), str(new), "--json"]) == 0
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


def changed(result: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in result["changed"] if c["name"] == name)


def edited(**changes: Any) -> list[dict[str, Any]]:
    after = copy.deepcopy(BEFORE)
    by_name = {r["name"]: r for r in after}
    for name, edit in changes.items():
        edit(by_name[name]["inputs"])
    return after


def test_a_jobs_pod_template_change_replaces_the_job(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def new_image(inputs: dict[str, Any]) -> None:
        inputs["spec"]["template"] = pod("a:2")

    job = changed(diff(tmp_path, capsys, edited(train=new_image)), "train")
    assert job["replacement"] == "replace"
    path = "spec.template.spec.containers[name=main].image"
    assert job["replace_because"] == [path]
    assert job["changes"] == [{"path": path, "old": "a:1", "new": "a:2"}]


@pytest.mark.parametrize(
    ("name", "edit", "verdict"),
    [
        ("serve", lambda i: i["spec"].update(replicas=3), "update"),
        ("serve", lambda i: i["spec"]["selector"]["matchLabels"].update(app="y"), "replace"),
        ("serve", lambda i: i["metadata"].update(name="serve2"), "replace"),
        ("db", lambda i: i["spec"].update(replicas=3), "update"),
        ("db", lambda i: i["spec"].update(serviceName="db2"), "replace"),
        ("db", lambda i: i["spec"]["volumeClaimTemplates"].append({"metadata": {"name": "logs"}}), "replace"),
        # Volume expansion is an update; another storage class is another volume.
        ("data", lambda i: i["spec"]["resources"]["requests"].update(storage="20Gi"), "update"),
        ("data", lambda i: i["spec"].update(storageClassName="io2"), "replace"),
        # A smaller claim is refused by the API server and not replaced by pulumi-kubernetes (#1705).
        ("data", lambda i: i["spec"]["resources"]["requests"].update(storage="5Gi"), "refused"),
        ("data", lambda i: i["spec"]["resources"]["requests"].update(storage="10240Mi"), "update"),
        ("data", lambda i: i["spec"]["resources"]["requests"].update(storage="10G"), "refused"),
        # pulumi-kubernetes replaces a binding whose roleRef changes (API server: "cannot change roleRef").
        ("readers", lambda i: i["roleRef"].update(name="writer"), "replace"),
        ("readers", lambda i: i["subjects"].append({"kind": "User", "name": "b"}), "update"),
        # The rest of a bound claim's spec is immutable and not in the provider's table: refused, not replaced
        # ("spec is immutable after creation except resources.requests and volumeAttributesClassName").
        ("data", lambda i: i["spec"].update(volumeMode="Block"), "refused"),
        ("data", lambda i: i["spec"]["resources"].update(limits={"storage": "20Gi"}), "refused"),
        ("data", lambda i: i["spec"].update(volumeAttributesClassName="fast"), "update"),
        ("artifacts", lambda i: i.update(bucket="b"), "unknown offline"),
    ],
)
def test_replacement_verdicts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, edit: Any, verdict: str
) -> None:
    assert changed(diff(tmp_path, capsys, edited(**{name: edit})), name)["replacement"] == verdict


def test_a_claim_asked_to_shrink_is_reported_as_refused_with_why_for_people_and_bots(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """pulumi-kubernetes updates a claim's storage request in place (pulumi-kubernetes#1665, #1705), and the
    API server refuses a smaller one ("spec.resources.requests.storage: Forbidden: field can not be less
    than previous value", e.g. goharbor/harbor-helm#1564): the update fails, nothing is replaced."""

    def shrink(inputs: dict[str, Any]) -> None:
        inputs["spec"]["resources"]["requests"]["storage"] = "5Gi"

    result = diff(tmp_path, capsys, edited(data=shrink))
    claim = changed(result, "data")
    assert claim["refused_because"] == ["spec.resources.requests.storage"]
    assert "cannot shrink (10Gi -> 5Gi)" in claim["refused_reason"] and claim["replace_because"] == []
    assert result["summary"]["refused"] == 1 and result["summary"]["replace"] == 0

    old, new = tmp_path / "old.json", write(tmp_path / "new.json", edited(data=shrink))
    assert main(["diff", str(old), str(new)]) == 0  # a report: `plan` and `check` judge
    text = capsys.readouterr().out
    assert "1 refused by the API server" in text
    assert "!  data  (kubernetes:core/v1:PersistentVolumeClaim)" in text
    assert "REFUSED: a claim cannot shrink (10Gi -> 5Gi)" in text


def test_added_removed_and_unchanged_are_counted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    after = [r for r in copy.deepcopy(BEFORE) if r["name"] != "old-role"]
    after.append(resource("aws:iam/role:Role", "new-role", {"name": "n"}))
    result = diff(tmp_path, capsys, after)
    assert [r["name"] for r in result["added"]] == ["new-role"]
    assert [r["name"] for r in result["removed"]] == ["old-role"]
    assert result["summary"] == {
        "add": 1,
        "remove": 1,
        "change": 0,
        "replace": 0,
        "refused": 0,
        "replacement_unknown": 0,
        "unchanged": 6,
    }


def test_an_unprotected_resource_is_a_change(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = copy.deepcopy(BEFORE)
    before[4]["protect"] = True
    old, new = write(tmp_path / "old.json", before), write(tmp_path / "new.json", BEFORE)
    assert main(["diff", str(old), str(new)]) == 0
    out = capsys.readouterr().out
    assert "options.protect: true -> false" in out


def test_secrets_stay_masked_in_preview_and_export_formats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def envelope(plaintext: str) -> dict[str, str]:
        return {
            "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
            "plaintext": plaintext,
        }

    def export(value: str) -> dict[str, Any]:
        state = resource("aws:rds/instance:Instance", "db", {"password": envelope(value), "size": value[:1]})
        return {"deployment": {"resources": [state]}}

    (tmp_path / "a.json").write_text(json.dumps(export("hunter2-old")))
    (tmp_path / "b.json").write_text(json.dumps(export("zebra22-new")))
    for extra in ([], ["--json"]):
        assert main(["diff", str(tmp_path / "a.json"), str(tmp_path / "b.json"), *extra]) == 0
        out = capsys.readouterr().out
        assert "hunter2" not in out and "zebra22" not in out
        assert "size" in out  # the plain change shows; the masked secret compares equal


def test_no_change_exits_0_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = write(tmp_path / "old.json", BEFORE), write(tmp_path / "new.json", BEFORE)
    assert main(["diff", str(old), str(new)]) == 0
    assert "no changes" in capsys.readouterr().out


def test_a_file_that_is_not_a_plan_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    old = write(tmp_path / "old.json", BEFORE)
    assert main(["diff", str(old), str(tmp_path / "bad.json")]) == 2
    out, err = capsys.readouterr()
    assert "bad.json is not JSON" in err and not out


def test_a_real_change_to_a_stack_marks_the_training_job_for_replacement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # More training steps change the trainer's arguments, inside the Job's immutable pod template; a
    # larger serving ceiling changes the HPA in place.
    platform = stack_config("aws-dev")
    before = config_plan(platform, stack="dev")
    after_config = copy.deepcopy(platform)
    after_config["workloads"][0]["max_steps"] = 2 * platform["workloads"][0]["max_steps"]
    after_config["workloads"][1]["max_replicas"] = platform["workloads"][1]["max_replicas"] - 1
    after = config_plan(after_config, stack="dev")
    (tmp_path / "old.json").write_text(json.dumps(before.to_json()))
    (tmp_path / "new.json").write_text(json.dumps(after.to_json()))
    assert main(["diff", str(tmp_path / "old.json"), str(tmp_path / "new.json"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    verdicts = {c["type"]: c["replacement"] for c in result["changed"]}
    assert verdicts["kubernetes:batch/v1:Job"] == "replace"
    assert verdicts["kubernetes:autoscaling/v2:HorizontalPodAutoscaler"] == "update"
    assert not result["added"] and not result["removed"]
