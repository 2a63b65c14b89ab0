"""Two layers of one platform: the cloud layer exports, the Kubernetes layer reads it through a stack
reference, and together they deploy exactly what one stack would.

The first `pulumi up` of a private cluster cannot reach its API from outside the network it creates
(pulumi/pulumi-eks#1134, #154): the cloud layer runs from anywhere, the Kubernetes layer from where the
cluster is reachable. Offline, a Kubernetes layer's stack reference is answered by its cloud layer's own
offline plan (pulumi/runtime/mocks.py: a StackReference is a read of `pulumi:pulumi:StackReference`).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
from plan_helpers import ROOT, config_plan, only, stack_config, stack_layer, stack_plan, whole_plan
from pulumi import RunError

from lepton_infra.cli import main
from lepton_infra.plan import recorder
from lepton_infra.plan.model import Plan, PlanResource, StackOutputs
from lepton_infra.plan.packs import OPERABILITY, evaluate_packs, selected
from lepton_infra.sites import MissingIdentity

CLOUD_STACK = "organization/lepton-infra/aws-prod"
PROVIDER = "pulumi:providers:kubernetes"
REFERENCE = "pulumi:pulumi:StackReference"
LAYERED = {
    "aws-prod": ["aws-prod-k8s"],
    "azure-prod": ["azure-prod-k8s"],
    "alicloud-prod": ["alicloud-prod-k8s"],
    "multicloud": ["multicloud-aws-k8s", "multicloud-azure-k8s", "multicloud-ali-k8s"],
}


def kubernetes_objects(plan: Plan) -> list[PlanResource]:
    return [r for r in plan.resources if r.type.startswith("kubernetes:")]


def reference_of(provider: PlanResource) -> str:
    return provider.urn + "::" + provider.outputs["id"]


def kubernetes_layer(platform: dict[str, Any], cloud: Plan, stack: str = "k8s") -> Plan:
    """Plan a Kubernetes-layer config against the outputs of the cloud layer ``cloud``."""
    return config_plan(platform, stack=stack, stack_outputs={CLOUD_STACK: cloud.outputs})


def test_every_example_layer_points_at_an_example_cloud_layer() -> None:
    kubernetes = {k for layers in LAYERED.values() for k in layers}
    assert {s for s in LAYERED if stack_layer(s) == "cloud"} == set(LAYERED)
    assert {s for s in kubernetes if stack_layer(s) == "kubernetes"} == kubernetes


def test_a_cloud_layer_makes_no_kubernetes_object_and_no_kubernetes_provider() -> None:
    plan = stack_plan("aws-prod")
    assert kubernetes_objects(plan) == []
    assert plan.of_type(PROVIDER) == []
    assert not [r for r in plan.resources if r.type.startswith("lepton:kubernetes:")]
    assert only(plan, "aws:eks/cluster:Cluster")
    # The workloads' identities are cloud resources: the cloud layer makes them, one per ServiceAccount.
    roles = {r.name for r in plan.of_type("lepton:aws:WorkloadRole") if "-ml-" in r.name}
    assert roles == {"lepton-aws-usw2-ml-pretrain", "lepton-aws-usw2-ml-serve"}


def test_a_cloud_layer_exports_its_kubeconfigs_as_a_secret_and_its_facts_in_the_clear() -> None:
    plan = stack_plan("aws-prod")
    assert plan.outputs.secret_names == {"kubeconfigs"}
    exported = plan.outputs.values["cluster_facts"]
    assert exported["format"] == 1
    facts = exported["sites"]["aws-usw2"]["facts"]
    assert "kubeconfig" not in facts
    arns = {r.outputs["arn"] for r in plan.of_type("aws:iam/role:Role") if "-ml-" in r.name}
    bound = {b["annotations"]["eks.amazonaws.com/role-arn"] for b in facts["service_accounts"].values()}
    assert set(facts["service_accounts"]) == {"ml/pretrain", "ml/serve"}
    assert bound == arns
    assert plan.to_json()["outputs"]["kubeconfigs"] == "[secret]"
    assert json.loads(plan.outputs.values["kubeconfigs"]["aws-usw2"])["kind"] == "Config"


def test_the_kubernetes_layer_deploys_only_through_the_cloud_layers_kubeconfig(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cloud = stack_plan("aws-prod")
    kubeconfig = cloud.outputs.values["kubeconfigs"]["aws-usw2"]
    # Record the secret the provider is given, not its mask, to compare it with the cloud layer's output.
    monkeypatch.setattr(recorder.pulumi_sdk, "is_secret", lambda value: False)
    plan = kubernetes_layer(copy.deepcopy(stack_config("aws-prod-k8s")), cloud)
    [provider] = plan.of_type(PROVIDER)
    assert provider.inputs["kubeconfig"]["value"] == kubeconfig
    [reference] = plan.of_type(REFERENCE)
    assert provider.property_dependencies["kubeconfig"] == (reference.urn,)
    objects = kubernetes_objects(plan)
    assert len(objects) > 10
    assert {r.provider for r in objects} == {reference_of(provider)}
    assert not [r for r in plan.resources if r.type.startswith(("aws:", "pulumi:providers:aws"))]


def test_the_stack_reference_is_answered_offline_with_its_secret_masked() -> None:
    plan = stack_plan("aws-prod-k8s")
    reference = only(plan, REFERENCE)
    assert reference.inputs == {"name": CLOUD_STACK}
    assert reference.options == {"external": True}
    assert reference.outputs["secretOutputNames"] == ["kubeconfigs"]
    assert reference.outputs["outputs"]["kubeconfigs"] == "[secret]"
    assert only(plan, PROVIDER).inputs["kubeconfig"] == "[secret]"
    assert "BEGIN" not in json.dumps(plan.to_json()) and "certificate-authority-data" not in json.dumps(
        plan.to_json()
    )


def _comparable(resource: PlanResource) -> str:
    """A resource without where it sits (URN, parent, provider and dependencies name the stack)."""
    data = copy.deepcopy(resource.to_json())
    for key in ("urn", "parent", "provider", "dependencies", "propertyDependencies"):
        data.pop(key, None)
    if resource.type == "lepton:kubernetes:SiteWorkloads":
        data["inputs"]["access"] |= {"layer": "-", "cloudStack": "-"}
    if resource.type == "lepton:index:Platform":
        data["inputs"].pop("layer", None)  # which layer the stack deploys: recorded by each layer's stack
    if resource.type == PROVIDER:
        # Read from the cloud layer's `kubeconfigs` output, a secret, it is masked even where one stack
        # holds it in the clear (ACK's exec-based kubeconfig): its value is checked on its own below.
        data["inputs"].pop("kubeconfig")
    return json.dumps(data, sort_keys=True)


@pytest.mark.parametrize("cloud", sorted(LAYERED))
def test_the_two_layers_deploy_exactly_what_one_stack_would(cloud: str) -> None:
    whole = {(r.type, r.name): _comparable(r) for r in whole_plan(cloud).resources}
    layers = [stack_plan(cloud), *(stack_plan(k) for k in LAYERED[cloud])]
    split = {(r.type, r.name): _comparable(r) for plan in layers for r in plan.resources}
    own = {"pulumi:pulumi:Stack", "lepton:index:ReferencedSite", REFERENCE}
    assert {k for k in split if k[0] not in own} == {k for k in whole if k[0] != "pulumi:pulumi:Stack"}
    assert {k: v for k, v in split.items() if k[0] not in own} == {
        k: v for k, v in whole.items() if k[0] != "pulumi:pulumi:Stack"
    }


def test_an_image_digest_bump_changes_only_the_kubernetes_layer() -> None:
    def bumped(stack: str) -> dict[str, Any]:
        platform = copy.deepcopy(stack_config(stack))
        for workload in platform["workloads"]:
            workload["image"]["digest"] = "sha256:" + "1" * 64
        return platform

    def by_urn(plan: Plan) -> dict[str, str]:
        return {
            r.urn: json.dumps({**r.to_json(), "dependencies": sorted(r.dependencies)}) for r in plan.resources
        }

    cloud = stack_plan("aws-prod")
    assert by_urn(config_plan(bumped("aws-prod"), stack="aws-prod")) == by_urn(cloud)
    before = {r.name: r.inputs for r in stack_plan("aws-prod-k8s").resources}
    after = {
        r.name: r.inputs for r in kubernetes_layer(bumped("aws-prod-k8s"), cloud, "aws-prod-k8s").resources
    }
    assert {name for name in before if before[name] != after[name]} == {
        "aws-usw2-pretrain-job",
        "aws-usw2-serve-deploy",
    }


def test_a_kubernetes_layer_of_one_site_deploys_that_site_only() -> None:
    plan = stack_plan("multicloud-azure-k8s")
    [provider] = plan.of_type(PROVIDER)
    assert provider.parent is not None and provider.parent.endswith("::lepton-azure-weu")
    assert {r.name.split("-serve")[0] for r in plan.of_type("kubernetes:apps/v1:Deployment")} == {"azure-weu"}
    assert only(plan, REFERENCE).inputs == {"name": "organization/lepton-infra/multicloud"}


def test_an_existing_cluster_in_a_kubernetes_layer_is_reached_through_its_own_kubeconfig() -> None:
    platform = copy.deepcopy(stack_config("aws-prod-k8s"))
    onprem = copy.deepcopy(stack_config("existing-cluster"))
    platform["sites"].append(onprem["sites"][0])
    plan = kubernetes_layer(platform, stack_plan("aws-prod"))
    kubeconfigs = {
        r.parent.rsplit("::", 1)[-1]: r.inputs["kubeconfig"] for r in plan.of_type(PROVIDER) if r.parent
    }
    assert kubeconfigs == {"lepton-aws-usw2": "[secret]", "lepton-onprem": "kubeconfigs/onprem.yaml"}


def test_a_workload_the_cloud_layer_has_no_identity_for_stops_the_kubernetes_layer() -> None:
    platform = copy.deepcopy(stack_config("aws-prod-k8s"))
    platform["workloads"][1]["name"] = "serve-v2"
    with pytest.raises(
        MissingIdentity, match=r"workload ml/serve-v2 has no cloud identity on site 'aws-usw2'"
    ):
        kubernetes_layer(platform, stack_plan("aws-prod"))


def test_a_site_the_cloud_layer_does_not_have_stops_the_kubernetes_layer() -> None:
    platform = json.loads(json.dumps(stack_config("aws-prod-k8s")).replace('"aws-usw2"', '"aws-use1"'))
    with pytest.raises(
        RunError, match=r"has no site 'aws-use1' in its '\w+' output \(sites: aws-usw2\): add the"
    ):
        kubernetes_layer(platform, stack_plan("aws-prod"))


def test_facts_of_another_format_ask_to_update_the_cloud_layer_first() -> None:
    cloud = stack_plan("aws-prod")
    values = copy.deepcopy(cloud.outputs.values)
    values["cluster_facts"]["format"] = 2
    old = Plan(stack="aws-prod", resources=[], outputs=StackOutputs(values, cloud.outputs.secret_names))
    with pytest.raises(
        RunError, match=r"format 2, and this version of lepton-infra reads format 1: run `pulumi up`"
    ):
        kubernetes_layer(copy.deepcopy(stack_config("aws-prod-k8s")), old)


def test_a_site_that_drifted_from_the_cloud_layers_is_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    platform = copy.deepcopy(stack_config("aws-prod-k8s"))
    platform["sites"][0]["gpu_pools"][1]["max_nodes"] = 12
    with caplog.at_level(logging.WARNING):
        kubernetes_layer(platform, stack_plan("aws-prod"))
    warning = (
        f"site 'aws-usw2' differs from the one cloud stack {CLOUD_STACK!r} was deployed with (gpu_pools)"
    )
    assert warning in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        kubernetes_layer(copy.deepcopy(stack_config("aws-prod-k8s")), stack_plan("aws-prod"))
    assert "differs" not in caplog.text


def site_access(plan: Plan, site: str) -> dict[str, Any]:
    access: dict[str, Any] = only(plan, "lepton:kubernetes:SiteWorkloads", site).inputs["access"]
    return access


def test_each_site_records_how_its_kubernetes_layer_reaches_the_api() -> None:
    """What the operability pack checks the Kubernetes provider against: the SiteWorkloads component's
    inputs, which `pulumi preview` records as well (a component's props are its inputs)."""
    assert site_access(stack_plan("aws-dev"), "aws-usw2") == {
        "layer": "all",
        "endpoint": {"public": True, "allowlist": ["203.0.113.0/24"]},
        "runner": {"location": "allowlisted", "cidrs": []},
    }
    assert site_access(stack_plan("aws-prod-k8s"), "aws-usw2") == {
        "layer": "kubernetes",
        "cloudStack": CLOUD_STACK,
        "endpoint": {"public": False, "allowlist": []},
        "runner": {"location": "in-network", "cidrs": []},
    }
    # An existing cluster's endpoint is not the platform's: nothing is claimed about it.
    assert site_access(stack_plan("existing-cluster"), "onprem") == {"layer": "all"}


def plan_error(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    stacks: tuple[str, ...],
    edit: tuple[str, str] = ("", ""),
) -> str:
    """The error `lepton-infra plan --stack aws-prod-k8s` prints in a copy of the project holding ``stacks``
    (aws-prod-k8s among them), its stack file edited (``old``, ``new``)."""
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copy(ROOT / "__main__.py", tmp_path / "__main__.py")
    (tmp_path / "stacks").mkdir()
    for stack in stacks:
        shutil.copy(ROOT / "stacks" / f"Pulumi.{stack}.yaml", tmp_path / "stacks" / f"Pulumi.{stack}.yaml")
    path = tmp_path / "stacks" / "Pulumi.aws-prod-k8s.yaml"
    path.write_text(path.read_text().replace(*edit))
    code = main(["plan", "--project", str(tmp_path), "--stack", "aws-prod-k8s"])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    return err


def test_a_cloud_stack_without_a_local_stack_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = plan_error(tmp_path, capsys, ("aws-prod-k8s",))
    text = (ROOT / "stacks/Pulumi.aws-prod-k8s.yaml").read_text()
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "cloud_stack" in t)
    field = "lepton-infra:platform.deployment.cloud_stack"
    assert f"Pulumi.aws-prod-k8s.yaml:{line}: {field}: no stack file Pulumi.aws-prod.yaml" in err
    assert "from its local stack file" in err


@pytest.mark.parametrize(
    ("stacks", "edit", "error"),
    [
        (
            ("aws-prod", "aws-prod-k8s"),
            (CLOUD_STACK, "acme/gpu-network/aws-prod"),
            "project 'gpu-network' is not this project ('lepton-infra')",
        ),
        (
            ("aws-dev", "aws-prod-k8s"),
            (CLOUD_STACK, "organization/lepton-infra/aws-dev"),
            "stack 'aws-dev' deploys layer 'all', not a cloud layer",
        ),
        (
            ("aws-prod", "aws-prod-k8s"),
            ("name: serve\n", "name: serve-v2\n"),
            "error: workload ml/serve-v2 has no cloud identity on site 'aws-usw2'",
        ),
    ],
    ids=["another project", "not a cloud layer", "a workload without identity"],
)
def test_a_kubernetes_layer_that_cannot_be_planned_says_why_without_a_traceback(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    stacks: tuple[str, ...],
    edit: tuple[str, str],
    error: str,
) -> None:
    assert error in plan_error(tmp_path, capsys, stacks, edit)


def test_the_operability_pack_leaves_a_cloud_layers_in_cluster_needs_to_its_kubernetes_layer() -> None:
    """A cloud layer builds GPU pools whose GPU runtime and autoscaler its Kubernetes layer installs: the
    pack reads the layer from the Platform component's inputs (what `pulumi preview` records too)."""
    cloud = stack_plan("azure-prod")
    assert only(cloud, "lepton:index:Platform").inputs == {"layer": "cloud"}
    in_cluster = {"gpu-pool-taints-tolerated", "node-pool-scales-from-zero"}
    assert not {v.policy for v in evaluate_packs(cloud, packs=selected([OPERABILITY]))} & in_cluster
    unmarked = Plan(
        stack=cloud.stack,
        resources=[
            dataclasses.replace(r, inputs={}) if r.type == "lepton:index:Platform" else r
            for r in cloud.resources
        ],
    )
    found = {v.policy for v in evaluate_packs(unmarked, packs=selected([OPERABILITY])) if v.blocks}
    assert "gpu-pool-taints-tolerated" in found
    # Its Kubernetes layer installs that runtime, tolerating every taint of the pools.
    assert only(stack_plan("azure-prod-k8s"), "kubernetes:helm.sh/v3:Release", "gpu-runtime")
