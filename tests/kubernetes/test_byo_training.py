"""Bring your own training code: the user's image, launcher, script and env, with every platform guarantee.

What stays the platform's whatever the script: torchrun's rendezvous flags, CHECKPOINT_DIR (and the bucket's
credentials through the workload identity), the preemption exit code and the failure policy that retries it
for free, and a shutdown timeout that lets workers checkpoint. Stock torchrun, which a user's image runs,
gives its workers 30 s after SIGTERM unless told otherwise (torch 2.13, torch/distributed/run.py
--shutdown-timeout; torch/distributed/launcher/api.py reads TORCH_ELASTIC_SHUTDOWN_TIMEOUT).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from manifest_helpers import Manifests, env_of, main_container, pod_spec
from plan_helpers import config_plan, spec_issues, stack_config

from lepton_infra.contract import (
    CHECKPOINT_DIR_ENV,
    PREEMPTED_EXIT_CODE,
    PREEMPTED_EXIT_CODE_ENV,
    TORCHRUN_SHUTDOWN_TIMEOUT_ENV,
)

torch_run = pytest.importorskip("torch.distributed.run")


def _platform_part(job: dict[str, Any]) -> dict[str, Any]:
    """What the platform puts in a training pod, whichever program it runs."""
    container = main_container(job)
    env = env_of(container)
    args = container["args"]
    return {
        "torchrun flags": [a.split("=")[0] for a in args if a.startswith("--") and "=" in a],
        "env": {n: env[n]["value"] for n in (PREEMPTED_EXIT_CODE_ENV, "NNODES")}
        | {CHECKPOINT_DIR_ENV: env[CHECKPOINT_DIR_ENV]["value"] is not None},
        "failure policy": job["spec"]["podFailurePolicy"],
        "security": container["securityContext"],
        "account token": pod_spec(job)["automountServiceAccountToken"],
        "dshm": next(v for v in pod_spec(job)["volumes"] if v["name"] == "dshm")["emptyDir"]["medium"],
    }


def test_a_users_image_runs_its_own_script_under_the_same_platform_contract(byo: Manifests) -> None:
    ours, theirs = byo.one("Job", "pretrain"), byo.one("Job", "finetune")
    container = main_container(theirs)
    assert container["command"] == ["torchrun"]
    assert container["image"].split("/", 1)[1].startswith("research/finetune:2.3.1@sha256:")
    # The script and its arguments come after torchrun's flags, exactly as given.
    assert container["args"][-5:] == ["finetune.py", "--output-dir", "$(CHECKPOINT_DIR)", "--epochs", "3"]
    assert "workloads.train" not in container["args"]
    assert env_of(container)["HF_DATASETS_OFFLINE"]["value"] == "1"
    assert _platform_part(theirs)["torchrun flags"] == _platform_part(ours)["torchrun flags"]
    for part in ("failure policy", "security", "account token", "dshm"):
        assert _platform_part(theirs)[part] == _platform_part(ours)[part], part
    assert env_of(container)[PREEMPTED_EXIT_CODE_ENV]["value"] == str(PREEMPTED_EXIT_CODE)
    assert env_of(container)[CHECKPOINT_DIR_ENV]["value"] == "/checkpoints"
    assert "--rdzv_endpoint=finetune-0.finetune:29500" in container["args"]


def test_torchrun_parses_the_users_job_and_gives_workers_the_grace_period(
    byo: Manifests, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = byo.one("Job", "finetune")
    container = main_container(job)
    args = [
        a.replace("$(NNODES)", env_of(container)["NNODES"]["value"]).replace(
            "$(CHECKPOINT_DIR)", "/checkpoints"
        )
        for a in container["args"]
    ]
    monkeypatch.setenv(
        TORCHRUN_SHUTDOWN_TIMEOUT_ENV, env_of(container)[TORCHRUN_SHUTDOWN_TIMEOUT_ENV]["value"]
    )
    config, entrypoint, script_args = torch_run.config_from_args(torch_run.get_args_parser().parse_args(args))
    # torchrun runs `<python> -u finetune.py <its arguments>` on each GPU.
    assert entrypoint.endswith("python")
    assert script_args == ["-u", "finetune.py", "--output-dir", "/checkpoints", "--epochs", "3"]
    assert config.nproc_per_node == 8 and (config.min_nodes, config.max_nodes) == (2, 2)
    grace = pod_spec(job)["terminationGracePeriodSeconds"]
    # Stock torchrun's 30 s would SIGKILL a worker mid-checkpoint; the pod's grace period is 300 s.
    assert 30 < config.shutdown_timeout < grace


def test_the_preempted_status_is_retried_for_free_for_the_users_container(byo: Manifests) -> None:
    rules = byo.one("Job", "finetune")["spec"]["podFailurePolicy"]["rules"]
    retried = [r for r in rules if r["action"] == "Ignore" and "onExitCodes" in r]
    assert retried[0]["onExitCodes"] == {"containerName": "trainer", "operator": "In", "values": [75]}


def _with_training(**fields: Any) -> dict[str, Any]:
    platform = copy.deepcopy(stack_config("byo-containers"))
    finetune = next(w for w in platform["workloads"] if w["name"] == "finetune")
    finetune.update(fields)
    return platform


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"max_steps": 100}, "max_steps"),
        ({"trainer_args": ["--n-layer", "2"]}, "trainer_args"),
        ({"env": {"CHECKPOINT_DIR": "/mine"}}, "env.CHECKPOINT_DIR"),
        ({"env": {"LEPTON_PREEMPTED_EXIT_CODE": "0"}}, "env.LEPTON_PREEMPTED_EXIT_CODE"),
        ({"args": None, "command": None}, "max_steps"),
    ],
)
def test_mixing_our_trainers_arguments_with_your_own_is_refused_naming_the_field(
    fields: dict[str, Any], path: str
) -> None:
    issues = spec_issues(_with_training(**fields))
    assert any(path in field for field, _ in issues), issues


def test_our_trainer_stays_the_default_with_our_launcher() -> None:
    platform = copy.deepcopy(stack_config("byo-containers"))
    platform["workloads"] = [w for w in platform["workloads"] if w["name"] == "pretrain"]
    container = main_container(Manifests(config_plan(platform)).one("Job", "pretrain"))
    assert container["command"] == ["torchrun"]
    assert container["args"][container["args"].index("-m") + 1] == "workloads.train"
