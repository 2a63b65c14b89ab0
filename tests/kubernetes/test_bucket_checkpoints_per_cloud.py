"""Bucket checkpoints reach the trainer as a URI its storage package reads, with what it needs to sign in."""

from __future__ import annotations

import pytest
from plan_helpers import only, whole_plan


def trainer_env(stack: str) -> dict[str, str]:
    job = only(whole_plan(stack), "kubernetes:batch/v1:Job", "pretrain")
    (container,) = job.inputs["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e.get("value", "") for e in container["env"]}


@pytest.mark.parametrize(
    ("stack", "scheme", "settings"),
    [
        ("aws-prod", "s3://", {}),
        ("azure-prod", "az://artifacts/", {"AZURE_STORAGE_ANON": "false"}),
        ("alicloud-prod", "oss://", {}),
    ],
)
def test_training_checkpoints_go_to_the_sites_bucket(
    stack: str, scheme: str, settings: dict[str, str]
) -> None:
    env = trainer_env(stack)
    assert env["CHECKPOINT_DIR"].startswith(scheme)
    assert env["CHECKPOINT_DIR"].endswith("/checkpoints/pretrain")
    assert settings.items() <= env.items()
    assert env["LEPTON_PREEMPTED_EXIT_CODE"] == "75"


def test_azure_names_the_storage_account_of_its_artifact_container() -> None:
    plan = whole_plan("azure-prod")
    account = only(plan, "azure-native:storage:StorageAccount")
    assert trainer_env("azure-prod")["AZURE_STORAGE_ACCOUNT_NAME"] == account.outputs["name"]


def test_alibaba_reaches_its_bucket_over_https_on_the_internal_endpoint() -> None:
    endpoint = trainer_env("alicloud-prod")["OSS_ENDPOINT"]
    assert endpoint.startswith("https://") and endpoint.endswith("-internal.aliyuncs.com")


@pytest.mark.parametrize("stack", ["aws-dev", "azure-prod", "alicloud-prod"])
def test_the_inference_service_reads_where_the_training_job_writes(stack: str) -> None:
    deployment = only(whole_plan(stack), "kubernetes:apps/v1:Deployment", "serve")
    (container,) = deployment.inputs["spec"]["template"]["spec"]["containers"]
    served = {e["name"]: e.get("value", "") for e in container["env"]}["CHECKPOINT_DIR"]
    assert served == trainer_env(stack)["CHECKPOINT_DIR"]
