"""The package's inputs mirror what they build: our Args (a component's or a nested one) and the platform
spec.

A field another engineer adds to an Args class or a spec model must reach the package (or be named here as
left out); a default the schema states must be the one that applies; what has a default is optional.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
from collections.abc import Mapping
from enum import Enum
from typing import Any

import pytest
from pulumi.provider.experimental.util import camel_case
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from lepton_infra.blueprint.servers import (
    CustomServerSpec,
    LeptonServerSpec,
    StagedModelSpec,
    VllmServerSpec,
)
from lepton_infra.blueprint.site_existing import ExistingGpuPoolSpec, TaintSpec
from lepton_infra.blueprint.workloads import (
    BucketCheckpointSpec,
    CpuAutoscalingSpec,
    ImageSpec,
    InferenceWorkloadSpec,
    IngressSpec,
    PodsMetricAutoscalingSpec,
    ResourcesSpec,
    ServingAlertsSpec,
    TrainingWorkloadSpec,
    VolumeCheckpointSpec,
)
from lepton_infra.catalog import Resources
from lepton_infra.components.alicloud import node_pool as alicloud_node_pool
from lepton_infra.components.aws import efa, node_group
from lepton_infra.components.azure import identity, node_pool
from lepton_infra.components.handle import ClusterAddons, ClusterFacts, ServiceAccountBinding
from lepton_infra.package import (
    PACKAGE_NAME,
    alicloud,
    aws_nodes,
    azure,
    azure_cluster,
    cluster,
    component_classes,
    kubernetes,
    workloads,
)
from lepton_infra.package.base import PackageComponent
from lepton_infra.package.host import package_provider
from lepton_infra.package.inputs import fields_of


@dataclasses.dataclass(frozen=True)
class Mirror:
    package: type
    sources: tuple[type, ...]
    # Fields of the sources the package sets itself, or leaves to their defaults on purpose.
    left_out: frozenset[str] = frozenset()
    # False: the package type shares only some fields with the sources (their defaults are still checked).
    complete: bool = True
    # Required in a source, optional in the package, which fills in a default of its own.
    defaulted_here: frozenset[str] = frozenset()
    # The package's own fields, which no source has.
    added_here: frozenset[str] = frozenset()
    # A source's field the package offers under another name: source name -> package name.
    renamed: Mapping[str, str] = dataclasses.field(default_factory=dict)


NESTED = [
    Mirror(aws_nodes.AwsNodeTaint, (node_group.NodeTaint,)),
    Mirror(aws_nodes.AwsNetworkInterface, (efa.NetworkInterface,)),
    Mirror(azure.AzureRoleGrant, (identity.RoleGrant,)),
    Mirror(azure_cluster.AzureTaint, (node_pool.Taint,)),
    Mirror(azure_cluster.AzureNodePool, (node_pool.AzureNodePoolArgs,)),
    Mirror(alicloud.AlicloudNodeTaint, (alicloud_node_pool.NodeTaint,)),
    Mirror(
        cluster.GpuPool,
        (ExistingGpuPoolSpec,),
        defaulted_here=frozenset({"node_labels"}),
        added_here=frozenset({"instance_type"}),
    ),
    Mirror(cluster.GpuPoolTaint, (TaintSpec,)),
    # The facts a cloud layer hands its Kubernetes layer, as a package component takes them.
    Mirror(
        cluster.ClusterTarget,
        (ClusterFacts, ClusterAddons),
        left_out=frozenset(
            {
                # Inputs of their own: a secret inside an object makes the whole object one secret, and a
                # workload's identity is the workload component's.
                "kubeconfig",
                "service_accounts",
                # Flattened: its fields are the target's.
                "addons",
                # A site's own engines (Karpenter, the EFA device plugin, InfiniBand): the package's cloud
                # components make what they need from the cloud; their charts are the program's.
                "services",
                # How the cloud layer exposed the API server: no Kubernetes component reads it.
                "api_endpoint",
            }
        ),
        renamed={"site": "name", "kubeconfig_context": "context"},
        added_here=frozenset({"cloud", "multikueue"}),
    ),
    Mirror(kubernetes.NamespaceQuota, (Resources,)),
    Mirror(kubernetes.ServiceAccountBinding, (ServiceAccountBinding,)),
    Mirror(workloads.TrainingWorkload, (TrainingWorkloadSpec,), left_out=frozenset({"kind", "sites"})),
    # MultiKueue dispatches batch Jobs only: a server runs on the cluster it is given (the spec refuses
    # `placement: any` for inference).
    Mirror(
        workloads.InferenceWorkload,
        (InferenceWorkloadSpec,),
        left_out=frozenset({"kind", "sites", "placement"}),
    ),
    Mirror(workloads.WorkloadImage, (ImageSpec,)),
    Mirror(workloads.WorkloadResources, (ResourcesSpec,)),
    Mirror(workloads.WorkloadCheckpoint, (BucketCheckpointSpec, VolumeCheckpointSpec)),
    Mirror(workloads.InferenceAutoscaling, (CpuAutoscalingSpec, PodsMetricAutoscalingSpec)),
    Mirror(workloads.InferenceIngress, (IngressSpec,)),
    Mirror(workloads.ServingAlerts, (ServingAlertsSpec,)),
    Mirror(workloads.InferenceServer, (LeptonServerSpec, VllmServerSpec, CustomServerSpec)),
    Mirror(workloads.StagedModel, (StagedModelSpec,)),
]


COMPONENTS: list[type[PackageComponent]] = [c for c in component_classes() if issubclass(c, PackageComponent)]


def _args(component: type[PackageComponent]) -> type:
    args: type = inspect.get_annotations(component.__init__)["args"]
    return args


def _component_mirrors() -> list[Mirror]:
    return [
        Mirror(_args(c), (c._args,), left_out=c._left_out) for c in COMPONENTS if isinstance(c._args, type)
    ]


MIRRORS = NESTED + _component_mirrors()


def _source_fields(source: type) -> dict[str, tuple[bool, Any]]:
    """Each field of a dataclass or pydantic model: (whether it has a default, the default if scalar)."""
    found: dict[str, tuple[bool, Any]] = {}
    if isinstance(source, type) and issubclass(source, BaseModel):
        for name, info in source.model_fields.items():
            has_default = info.default is not PydanticUndefined or info.default_factory is not None
            found[name] = (has_default, info.default if info.default is not PydanticUndefined else None)
    else:
        for f in dataclasses.fields(source):  # type: ignore[arg-type]
            has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
            found[f.name] = (has_default, f.default if f.default is not dataclasses.MISSING else None)
    return {name: (has, _scalar(value)) for name, (has, value) in found.items()}


def _mirrored_fields(mirror: Mirror) -> dict[str, tuple[bool, Any]]:
    """Each field of the mirror's sources under the package's name for it: (has a default, the default)."""
    found: dict[str, tuple[bool, Any]] = {}
    for source in mirror.sources:
        found.update(_source_fields(source))
    return {mirror.renamed.get(name, name): value for name, value in found.items()}


def _scalar(value: Any) -> Any:
    value = value.value if isinstance(value, Enum) else value
    return value if isinstance(value, str | int | float | bool) else None


def _descriptions(schema: dict[str, Any], package: type) -> dict[str, str]:
    """Descriptions of a package TypedDict's fields, from the schema (a component's inputs or a type)."""
    for component in COMPONENTS:
        if _args(component) is package:
            properties = schema["resources"][component.token()]["inputProperties"]
            break
    else:
        properties = schema["types"][f"{PACKAGE_NAME}:index:{package.__name__}"]["properties"]
    return {name: properties[camel_case(name)]["description"] for name in fields_of(package)}


@pytest.mark.parametrize("mirror", MIRRORS, ids=lambda m: m.package.__name__)
def test_a_package_type_takes_every_field_of_what_it_builds(mirror: Mirror) -> None:
    sources = _mirrored_fields(mirror)
    mine = set(fields_of(mirror.package))
    if mirror.complete:
        assert mine - mirror.added_here - set(sources) == set(), "fields the sources do not have"
        assert set(sources) - mirror.left_out - mine == set(), "fields the package does not offer"


@pytest.mark.parametrize("mirror", MIRRORS, ids=lambda m: m.package.__name__)
def test_what_has_a_default_is_optional_and_the_schema_states_the_default_that_applies(
    mirror: Mirror, schema: dict[str, Any]
) -> None:
    sources = _mirrored_fields(mirror)
    optional: frozenset[str] = mirror.package.__optional_keys__  # type: ignore[attr-defined]
    descriptions = _descriptions(schema, mirror.package)
    for name, description in descriptions.items():
        if name not in sources:
            continue
        has_default, default = sources[name]
        if len(mirror.sources) == 1:
            assert (name in optional) == (has_default or name in mirror.defaulted_here), name
        stated = re.search(r'Default: ("[^"]*"|-?\d+(?:\.\d+)?|true|false)\.', description)
        if default is not None:
            assert stated is not None, (
                f"{name}: the description does not say `Default: {json.dumps(default)}.`"
            )
        if stated is not None:
            assert json.loads(stated[1]) == default, (
                f"{name}: the description's default is not the one that applies"
            )


def test_every_package_component_checks_its_inputs_before_it_builds() -> None:
    assert len(COMPONENTS) == len(component_classes())
    assert set(package_provider().checks.values()) == set(COMPONENTS)


def test_the_binding_names_the_annotation_and_pod_label_each_clouds_identity_needs(
    schema: dict[str, Any],
) -> None:
    from lepton_infra.components.alicloud.site import RRSA_INJECTION_LABEL, RRSA_ROLE_ANNOTATION
    from lepton_infra.components.aws.site import IRSA_ANNOTATION
    from lepton_infra.components.azure.site import CLIENT_ID_ANNOTATION, USE_WORKLOAD_IDENTITY_LABEL

    binding = schema["types"][f"{PACKAGE_NAME}:index:ServiceAccountBinding"]["properties"]
    for annotation in (IRSA_ANNOTATION, CLIENT_ID_ANNOTATION, RRSA_ROLE_ANNOTATION):
        assert f"``{annotation}``" in binding["annotations"]["description"]
    for label in (USE_WORKLOAD_IDENTITY_LABEL, RRSA_INJECTION_LABEL):
        assert f"``{label}:" in binding["podLabels"]["description"]
