"""Two layers of one platform from a program in any language: the package's Platform as a cloud layer builds
and exports what the Python program (`__main__.py`) does, and as a Kubernetes layer reads those outputs
through a stack reference and builds what the Python program builds from them.

The engine answers a stack reference from the referenced stack's state (a read of
`pulumi:pulumi:StackReference`); the fake engine answers it from the Python cloud layer's offline plan, as
`lepton-infra plan` does.
"""

from __future__ import annotations

from typing import Any

import pulumi
from parity import children
from plan_helpers import ROOT, stack_config
from provider_harness import FakeEngine

from lepton_infra.blueprint import PlatformSpec
from lepton_infra.layers import FACTS_OUTPUT, KUBECONFIGS_OUTPUT
from lepton_infra.package.inputs import ordered
from lepton_infra.plan.engine import record
from lepton_infra.plan.model import Plan, StackOutputs
from lepton_infra.plan.recorder import SECRET_MASK
from lepton_infra.platform import Platform

CLOUD_STACK = "organization/lepton-infra/aws-prod"
PLATFORM = "lepton:index:Platform"


def python_layer(platform: dict[str, Any], stack_outputs: dict[str, StackOutputs] | None = None) -> Plan:
    """What a Python program that builds ``platform`` and exports as `__main__.py` does registers, its maps
    in the order the package takes them from the wire, which keeps none (sorted)."""

    def program() -> None:
        built = Platform("lepton", PlatformSpec.model_validate(ordered(platform)))
        pulumi.export(KUBECONFIGS_OUTPUT, built.kubeconfigs)
        if built.cloud_facts:
            pulumi.export(FACTS_OUTPUT, built.cloud_facts)

    return record(program, project="consumer", stack="dev", stack_outputs=stack_outputs)


def test_a_cloud_layer_over_grpc_builds_and_exports_what_the_python_program_does(engine: FakeEngine) -> None:
    platform = stack_config("aws-prod")
    assert platform["deployment"]["layer"] == "cloud"
    built = engine.construct("lepton-infra:index:Platform", "lepton", {"platform": platform})

    python = python_layer(platform)
    assert children(built.resources, PLATFORM) == children(python.resources, PLATFORM)
    assert not [r for r in built.resources if r.type.startswith("kubernetes:")]
    # What a TypeScript or YAML program exports as `cluster_facts` is what the Kubernetes layer reads.
    facts = built.state["clusterFacts"]
    assert facts == python.outputs.values[FACTS_OUTPUT]
    assert set(facts["sites"]["aws-usw2"]["facts"]["service_accounts"]) == {"ml/pretrain", "ml/serve"}
    assert built.state["kubeconfigs"] == SECRET_MASK
    # A cloud layer deploys no Kubernetes layer, yet names each site's registry and bucket.
    site = facts["sites"]["aws-usw2"]["facts"]
    assert site["registry"].endswith(".dkr.ecr.us-west-2.amazonaws.com")
    assert built.state["registries"] == {"aws-usw2": site["registry"]}
    assert built.state["artifactBuckets"] == {"aws-usw2": site["artifact_bucket_uri"]}


def test_a_kubernetes_layer_over_grpc_reads_the_cloud_layers_outputs_and_builds_what_python_builds(
    engine: FakeEngine,
) -> None:
    cloud = python_layer(stack_config("aws-prod"))
    engine.serve_stack(CLOUD_STACK, cloud.outputs)
    platform = stack_config("aws-prod-k8s")
    assert platform["deployment"] == {"layer": "kubernetes", "cloud_stack": CLOUD_STACK}

    built = engine.construct("lepton-infra:index:Platform", "lepton", {"platform": platform})

    python = python_layer(platform, {CLOUD_STACK: cloud.outputs})
    assert children(built.resources, PLATFORM) == children(python.resources, PLATFORM)
    (reference,) = [r for r in built.resources if r.type == "pulumi:pulumi:StackReference"]
    assert reference.inputs["name"] == CLOUD_STACK
    # No cloud resource here: the clusters are the cloud layer's; the workloads land on them.
    assert not [r for r in built.resources if r.type.startswith("aws:")]
    (job,) = [r for r in built.resources if r.type == "kubernetes:batch/v1:Job"]
    accounts = [r for r in built.resources if r.type == "kubernetes:core/v1:ServiceAccount"]
    pretrain = next(a for a in accounts if a.inputs["metadata"]["name"] == "pretrain")
    exported = cloud.outputs.values[FACTS_OUTPUT]["sites"]["aws-usw2"]["facts"]
    bound = exported["service_accounts"]["ml/pretrain"]
    assert pretrain.inputs["metadata"]["annotations"] == bound["annotations"]
    assert job.inputs["spec"]["template"]["spec"]["serviceAccountName"] == "pretrain"
    # The cluster's kubeconfig came from the cloud layer's secret output, and stays a secret.
    providers = [r for r in built.resources if r.type == "pulumi:providers:kubernetes"]
    assert providers and {p.inputs["kubeconfig"] for p in providers} == {SECRET_MASK}
    assert built.state["registries"] == {"aws-usw2": exported["registry"]}


def test_the_readme_tells_other_languages_the_output_names_a_kubernetes_layer_reads() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[
        readme.index("## From TypeScript, Go, C#, Java or YAML") : readme.index("## Command line")
    ]
    assert f"export const {KUBECONFIGS_OUTPUT} = platform.kubeconfigs;" in section
    assert f"export const {FACTS_OUTPUT} = platform.clusterFacts;" in section
