"""The existing-cluster site, identity binding per cloud, and one service placed on several sites."""

from __future__ import annotations

import ast
import copy
import dataclasses
from pathlib import Path

import pytest
from manifest_helpers import Manifests, Obj, main_container
from plan_helpers import ROOT, config_plan, only, stack_config, stack_plan

from lepton_infra.blueprint import ExistingSiteSpec, PlatformSpec, TrainingWorkloadSpec
from lepton_infra.components.existing.site import ExistingSite
from lepton_infra.components.handle import ServiceAccountBinding
from lepton_infra.components.kubernetes.training_job import TrainingJob, TrainingJobArgs
from lepton_infra.plan.engine import record
from lepton_infra.program import main
from lepton_infra.project import PLATFORM_KEY, StackConfig
from lepton_infra.sites import handle_from_facts


def test_existing_site_reaches_its_cluster_through_one_explicit_provider() -> None:
    plan = stack_plan("existing-cluster")
    provider = only(plan, "pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] == "kubeconfigs/onprem.yaml"
    assert provider.inputs["context"] == "onprem-admin"
    assert provider.inputs["enableServerSideApply"] == "true"
    objects = [r for r in plan.custom_resources() if r.type.startswith("kubernetes:")]
    assert {r.provider.split("::")[-2] for r in objects if r.provider} == {provider.name}
    assert all(r.provider for r in objects)
    assert not [r for r in plan.resources if r.type.startswith(("aws:", "azure-native:", "alicloud:"))]


def test_a_secret_kubeconfig_stays_secret() -> None:
    platform = copy.deepcopy(stack_config("existing-cluster"))
    platform["sites"][0]["kubeconfig"] = {"secret_config_key": "onprem-kubeconfig"}
    key = "lepton-infra:onprem-kubeconfig"
    config = StackConfig(
        stack="test",
        path=Path("Pulumi.test.yaml"),
        values={PLATFORM_KEY: platform, key: "apiVersion: v1\nkind: Config\n"},
        secret_keys=frozenset({key}),
    )
    plan = record(main, project="lepton-infra", stack="test", config=config)
    assert only(plan, "pulumi:providers:kubernetes").inputs["kubeconfig"] == "[secret]"


def test_the_existing_site_reads_no_config() -> None:
    """The program resolves config and hands the site a secret lookup (import-linter keeps the site from
    importing the project reader); the site builder only builds."""
    tree = ast.parse((ROOT / "lepton_infra" / "components" / "existing" / "site.py").read_text())
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "Config"]


def test_a_secret_kubeconfig_without_a_secret_lookup_is_refused_with_what_to_pass() -> None:
    platform = copy.deepcopy(stack_config("existing-cluster"))
    platform["sites"][0]["kubeconfig"] = {"secret_config_key": "onprem-kubeconfig"}
    site = PlatformSpec.model_validate(platform).sites[0]
    assert isinstance(site, ExistingSiteSpec)
    with pytest.raises(ValueError, match=r"'onprem-kubeconfig'.*pass secrets="):
        ExistingSite("onprem", site)


def test_aws_binds_each_workload_account_to_its_own_irsa_role(aws_dev: Manifests) -> None:
    roles = {r.name: r for r in aws_dev.plan.of_type("aws:iam/role:Role")}
    for name in ("pretrain", "serve"):
        account = aws_dev.one("ServiceAccount", name)
        arn = account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
        role = next(r for r in roles.values() if r.outputs.get("arn") == arn)
        assert f"-ml-{name}" in role.name
        assert account["automountServiceAccountToken"] is False


def test_an_existing_cluster_binds_accounts_with_the_annotations_it_states() -> None:
    platform = copy.deepcopy(stack_config("existing-cluster"))
    platform["sites"][0]["service_account_annotations"] = {"example.com/identity": "ml-workloads"}
    account = Manifests(config_plan(platform)).one("ServiceAccount", "serve")
    assert account["metadata"]["annotations"] == {"example.com/identity": "ml-workloads"}


def test_a_binding_that_needs_pod_labels_gets_them_on_the_pod_template() -> None:
    """Azure workload identity labels the pod itself; any binder's pod labels must reach the pod template."""
    spec = PlatformSpec.model_validate(stack_config("existing-cluster"))
    azure_like = ServiceAccountBinding(
        annotations={"azure.workload.identity/client-id": "00000000-0000-0000-0000-000000000000"},
        pod_labels={"azure.workload.identity/use": "true"},
    )

    site, workload = spec.sites[0], spec.workloads[0]
    assert isinstance(site, ExistingSiteSpec) and isinstance(workload, TrainingWorkloadSpec)

    def program() -> None:
        built = ExistingSite("onprem", site).built
        handle = dataclasses.replace(
            handle_from_facts(built, "onprem", built.parent),
            bind_service_account=lambda namespace, account: azure_like,
        )
        TrainingJob("pretrain", TrainingJobArgs(handle, workload))

    manifests = Manifests(record(program, project="lepton-infra", stack="test"))
    job = manifests.one("Job", "pretrain")
    assert job["spec"]["template"]["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    account = manifests.one("ServiceAccount", "pretrain")
    assert account["metadata"]["annotations"] == dict(azure_like.annotations)


def site_neutral(deployment: Obj) -> Obj:
    """The Deployment without the addresses of its site: its registry's host and its bucket."""
    neutral = copy.deepcopy(deployment)
    container = main_container(neutral)
    container["image"] = container["image"].split("/", 1)[1]
    for env in container["env"]:
        if env["name"] == "CHECKPOINT_DIR":
            env["value"] = env["value"].split("/", 3)[3]
    return neutral


def test_one_service_on_two_sites_differs_only_in_the_cloud_binding() -> None:
    platform = copy.deepcopy(stack_config("aws-dev"))
    onprem = copy.deepcopy(stack_config("existing-cluster"))["sites"][0]
    onprem |= {
        "prometheus_operator": False,
        "artifact_bucket_uri": "s3://onprem-artifacts",
        "registry": "harbor.example",
    }
    labels = {"lepton.ai/accelerator": "L4", "lepton.ai/pool": "l4"}
    onprem["gpu_pools"] = [{"name": "l4", "accelerator": "L4", "gpus_per_node": 1, "node_labels": labels}]
    platform["sites"].append(onprem)
    [serve] = [w for w in platform["workloads"] if w["name"] == "serve"]
    # Sized explicitly: left out, each site would size the pods by its own nodes.
    resources = {"cpu_millicores": 2000, "memory_mib": 8192}
    platform["workloads"] = [serve | {"sites": ["aws-usw2", "onprem"], "resources": resources}]
    # Its team needs quota on the new site too, or the spec refuses a service that could never be admitted.
    platform["teams"][0]["quotas"].append({"site": "onprem", "accelerator": "L4", "gpus": 5})
    manifests = Manifests(config_plan(platform))

    first, second = manifests.all("Deployment")
    assert site_neutral(first) == site_neutral(second)
    assert main_container(first)["image"] != main_container(second)["image"]
    for kind in ("Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy"):
        one, other = [o for o in manifests.all(kind) if o["metadata"]["name"] == "serve"]
        assert one == other, kind
    annotations = sorted(
        (a["metadata"].get("annotations", {}) for a in manifests.all("ServiceAccount")), key=len
    )
    assert annotations[0] == {}
    assert list(annotations[1]) == ["eks.amazonaws.com/role-arn"]
