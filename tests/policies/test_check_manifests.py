"""`lepton-infra check` on Kubernetes manifests (what `plan --manifests` writes, `kubectl apply -f` takes
and checkov scans), started as a shell starts it: it loads neither pulumi_policy nor gRPC, nor the Pulumi
SDK, nor pydantic (issue 16: `import pulumi_policy` alone costs ~0.3 s here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lepton_infra.cli.check import check_command
from lepton_infra.plan.loaders import PlanLoadError, load_plan

ROOT = Path(__file__).resolve().parents[2]
POD = """\
apiVersion: v1
kind: Pod
metadata: {name: debug, namespace: ml}
spec:
  containers:
    - {name: shell, image: busybox, securityContext: {privileged: true}}
"""
ROLE = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: admin, namespace: ml}
rules: [{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]
"""


def _manifests(tmp_path: Path) -> Path:
    folder = tmp_path / "manifests"
    (folder / "nested").mkdir(parents=True)
    (folder / "pod.yaml").write_text(POD)
    (folder / "nested" / "role.yml").write_text(f"---\n{ROLE}---\n")
    listed = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}],
    }
    (folder / "list.json").write_text(json.dumps(listed))
    (folder / "README.md").write_text("not a manifest")
    return folder


def test_a_folder_of_manifests_becomes_one_plan_of_typed_objects(tmp_path: Path) -> None:
    plan = load_plan(_manifests(tmp_path))
    assert sorted((r.type, r.name) for r in plan.resources) == [
        ("kubernetes:core/v1:ConfigMap", "c"),
        ("kubernetes:core/v1:Pod", "ml/debug"),
        ("kubernetes:rbac.authorization.k8s.io/v1:Role", "ml/admin"),
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a: 1\na: 2\n", "not YAML"),  # a duplicate key is refused, not silently overwritten
        ("- 1\n- 2\n", "not a Kubernetes object"),
        ("kind: Pod\nmetadata: {name: x}\n", "no apiVersion or kind"),
        (f"{POD}---\n{POD}", "defined twice"),
    ],
)
def test_an_unreadable_manifest_exits_2_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, reason: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(PlanLoadError, match=reason):
        load_plan(path)
    assert check_command(path, "text", None) == 2
    assert str(path) in capsys.readouterr().out


def test_check_of_manifests_as_a_process_loads_no_policy_sdk_grpc_or_pydantic(tmp_path: Path) -> None:
    folder = _manifests(tmp_path)
    probe = (
        "import sys\n"
        "from lepton_infra.cli import main\n"
        f"code = main(['check', {str(folder)!r}, '--format', 'json'])\n"
        "loaded = {m.split('.')[0] for m in sys.modules}\n"
        "heavy = sorted(loaded & {'pulumi_policy', 'grpc', 'pulumi', 'pydantic'})\n"
        "print(repr((int(code), heavy)), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert done.stderr.strip().splitlines()[-1] == "(1, [])", done.stderr
    report = json.loads(done.stdout)
    blocking = {v["policy"] for v in report["violations"] if v["enforcement"] == "mandatory"}
    assert {"kubernetes-pod-disallow-privileged", "kubernetes-rbac-disallow-wildcards"} <= blocking
