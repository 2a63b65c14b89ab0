"""Public names: unique component classes across clouds, old names and paths still importable."""

from __future__ import annotations

import importlib
import inspect
import warnings

import pulumi
import pytest
from plan_helpers import stack_plan

CLOUD_PACKAGES = ("aws", "azure", "alicloud")


def _components(package: str) -> dict[str, type]:
    module = importlib.import_module(f"lepton_infra.components.{package}")
    return {
        name: value
        for name, value in vars(module).items()
        if inspect.isclass(value) and issubclass(value, pulumi.ComponentResource)
    }


def test_every_public_component_class_name_is_unique_across_clouds_and_names_its_cloud() -> None:
    seen: dict[str, str] = {}
    for package in CLOUD_PACKAGES:
        prefix = {"aws": "Aws", "azure": "Azure", "alicloud": "Alicloud"}[package]
        for name in _components(package):
            assert name.startswith(prefix), f"{package}.{name} does not start with {prefix}"
            assert name not in seen, f"{name} is exported by both {seen[name]} and {package}"
            seen[name] = package
    assert len(seen) >= 20


@pytest.mark.parametrize(
    ("package", "old", "new"),
    [
        ("aws", "EksCluster", "AwsEksCluster"),
        ("aws", "Network", "AwsNetwork"),
        ("azure", "Network", "AzureNetwork"),
        ("azure", "NodePoolArgs", "AzureNodePoolArgs"),
        ("alicloud", "KmsKey", "AlicloudKmsKey"),
        ("alicloud", "NodePoolArgs", "AlicloudNodePoolArgs"),
    ],
)
def test_an_old_component_name_still_imports_with_a_deprecation_warning(
    package: str, old: str, new: str
) -> None:
    module = importlib.import_module(f"lepton_infra.components.{package}")
    with pytest.warns(DeprecationWarning, match=new):
        assert getattr(module, old) is getattr(module, new)
    with pytest.raises(AttributeError):
        module.NoSuchComponent  # noqa: B018


def test_the_old_spec_path_is_the_blueprint_itself() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        import lepton_infra.spec.workloads as spec_workloads

        import lepton_infra.blueprint.workloads as blueprint_workloads
        from lepton_infra.blueprint import PlatformSpec
        from lepton_infra.spec import PlatformSpec as OldPlatformSpec
    assert spec_workloads is blueprint_workloads
    assert OldPlatformSpec is PlatformSpec


def test_the_existing_cluster_site_keeps_its_old_type_as_an_alias() -> None:
    """It moved out of the Kubernetes layer; without the alias its provider and every object would be
    replaced on the next `pulumi up` of a stack made before."""
    site = next(r for r in stack_plan("existing-cluster").resources if r.type == "lepton:existing:Site")
    assert site.options["aliases"] == [{"spec": {"type": "lepton:kubernetes:ExistingSite", "parentUrn": ""}}]
