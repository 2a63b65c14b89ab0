"""A training pod's /tmp holds a whole checkpoint on its way to a bucket: sized by the spec, requested from
the scheduler, and refused where the pool's node disk cannot hold it.

The failure this guards: training pods had a fixed 2 GiB /tmp emptyDir, and the checkpoint store spools
each checkpoint file through $TMPDIR before the upload (workloads/checkpoint/storage.py). A model whose
model and optimizer state passed 2 GiB got its pod evicted at its first checkpoint: the kubelet evicts a
pod whose emptyDir outgrows its sizeLimit (kubernetes/kubernetes#45686, "the emptyDir usage exceeds the
size limit, evict the pod"; https://kubernetes.io/docs/concepts/storage/ephemeral-storage/).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from manifest_helpers import Manifests, main_container, pod_spec
from plan_helpers import ROOT, config_plan, problems, stack_config

from lepton_infra.catalog import pod_ephemeral_gib, scratch_room_gib
from lepton_infra.cli import main


def _aws_dev(**training: Any) -> dict[str, Any]:
    platform = stack_config("aws-dev")
    [job] = [w for w in platform["workloads"] if w["kind"] == "training"]
    job.update(training)
    return platform


def _volume(obj: dict[str, Any], name: str) -> dict[str, Any]:
    [volume] = [v for v in pod_spec(obj)["volumes"] if v["name"] == name]
    return volume


def test_a_bigger_scratch_space_sizes_tmp_and_is_requested_from_the_scheduler() -> None:
    job = Manifests(config_plan(_aws_dev(scratch_disk_gib=120))).one("Job", "pretrain")
    tmp = _volume(job, "tmp")
    assert tmp["emptyDir"] == {"sizeLimit": "120Gi"}  # on the node's disk, not tmpfs
    container = main_container(job)
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    # The emptyDir counts against the pod's ephemeral storage: the request covers it and the pod's logs,
    # so the scheduler only places the pod on a node with that much room.
    resources = container["resources"]
    assert resources["requests"]["ephemeral-storage"] == f"{pod_ephemeral_gib(120)}Gi"
    assert resources["limits"]["ephemeral-storage"] == resources["requests"]["ephemeral-storage"]


def test_the_default_holds_more_than_the_old_two_gib() -> None:
    job = Manifests(config_plan(_aws_dev())).one("Job", "pretrain")
    size = _volume(job, "tmp")["emptyDir"]["sizeLimit"]
    assert size.endswith("Gi") and int(size[:-2]) >= 32  # a checkpoint of ~2.5 billion AdamW parameters
    assert "ephemeral-storage" in main_container(job)["resources"]["requests"]


def test_a_server_keeps_its_small_tmp_and_asks_only_for_it_and_its_logs() -> None:
    deployment = Manifests(config_plan(_aws_dev(scratch_disk_gib=120))).one("Deployment", "serve")
    assert _volume(deployment, "tmp")["emptyDir"] == {"sizeLimit": "2Gi"}
    requested = main_container(deployment)["resources"]["requests"]["ephemeral-storage"]
    assert requested == f"{pod_ephemeral_gib(2)}Gi"  # the training job's scratch size is not the server's


def test_scratch_larger_than_the_pools_disk_can_hold_is_refused() -> None:
    platform = _aws_dev(scratch_disk_gib=500)  # the pool's default disk_gib is 200
    found = problems(platform)
    message = found["lepton-infra:platform.workloads[0].scratch_disk_gib"]
    assert f"({scratch_room_gib(200)} GiB" in message and "pool 'l4'" in message and "disk_gib" in message
    # The remedy it names works.
    platform["sites"][0]["gpu_pools"][0]["disk_gib"] = int(message.rsplit(" ", 1)[1])
    config_plan(platform)


def test_the_refusal_names_the_stack_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "stacks").mkdir()
    stack = tmp_path / "stacks" / "Pulumi.aws-dev.yaml"
    text = (ROOT / "stacks" / "Pulumi.aws-dev.yaml").read_text()
    anchor = "        gpus_per_node: 1\n"
    assert anchor in text
    stack.write_text(text.replace(anchor, anchor + "        scratch_disk_gib: 4000\n", 1))
    code = main(["validate", "--project", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    line = next(i for i, t in enumerate(stack.read_text().splitlines(), 1) if "scratch_disk_gib" in t)
    assert f"Pulumi.aws-dev.yaml:{line}: lepton-infra:platform.workloads[0].scratch_disk_gib:" in err
