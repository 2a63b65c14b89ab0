"""The documented component contract: every input and output of every public component says what it is, and
the reference page (docs/components.md) is what the code says today (issue 17).

Fields are documented with attribute docstrings (a string literal right after the field), which Pulumi's own
schema inference reads as the property's description (pulumi.provider.experimental.analyzer), as the
pulumi-eks anchor documents every input of its node groups.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import re

import pytest
from plan_helpers import ROOT
from pulumi.provider.experimental.analyzer import Analyzer

from lepton_infra.docs import attributes
from lepton_infra.docs.__main__ import main
from lepton_infra.docs.page import PAGE, Component, inputs, render, sections, types_used

COMPONENTS: list[Component] = [c for s in sections() for c in s.components]
TYPES = types_used(COMPONENTS)
ARGS = [c.args for c in COMPONENTS if c.args is not None]


def test_the_reference_page_is_what_the_code_says_today() -> None:
    stale = "docs/components.md is stale: run `python -m lepton_infra.docs`"
    assert PAGE.read_text(encoding="utf-8") == render(), stale
    assert main(["--check"]) == 0


def test_every_public_component_of_every_cloud_and_of_the_kubernetes_layer_is_on_the_page() -> None:
    from lepton_infra.components import alicloud, aws, azure

    exported = {name for package in (aws, azure, alicloud) for name in package.__all__}
    documented = (
        {c.name for c in COMPONENTS}
        | {c.args.__name__ for c in COMPONENTS if c.args}
        | {t.__name__ for t in TYPES}
    )
    assert exported <= documented
    assert {"TrainingJob", "InferenceService", "GpuRuntime", "TenantNamespace", "ClusterServices"} <= {
        c.name for c in COMPONENTS
    }
    page = PAGE.read_text(encoding="utf-8")
    assert all(f"### {c.name}\n" in page for c in COMPONENTS)


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.name)
def test_every_input_says_what_it_is(component: Component) -> None:
    undocumented = [a.name for a in inputs(component) if not a.doc]
    assert undocumented == [], f"{component.name}: inputs without a docstring"


@pytest.mark.parametrize("cls", TYPES, ids=lambda t: f"{t.__module__}.{t.__name__}")
def test_every_field_of_every_type_the_inputs_use_says_what_it_is(cls: type) -> None:
    listed = attributes.members(cls) if issubclass(cls, enum.Enum) else attributes.fields(cls)
    assert [a.name for a in listed if not a.doc] == []
    # A dataclass without a docstring of its own gets its signature as one.
    doc = inspect.getdoc(cls) or ""
    assert doc and not doc.startswith(f"{cls.__name__}("), "no class docstring"


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.name)
def test_every_output_is_declared_and_says_what_it_is(component: Component) -> None:
    declared = {a.name: a for a in attributes.outputs(component.cls)}
    assert set(attributes.assigned_outputs(component.cls)) <= set(declared), "set in __init__, not declared"
    assert [name for name, a in declared.items() if not a.doc] == []
    assert inspect.getdoc(component.cls), "no component docstring"


@pytest.mark.parametrize("args", ARGS, ids=lambda a: a.__name__)
def test_pulumis_schema_inference_reads_the_same_descriptions(args: type) -> None:
    # The analyzer reads a class's own source: fields a base class declares are described in the base.
    own = vars(args).get("__annotations__", {})
    analyzer = Analyzer("lepton-infra")
    docs = attributes.docstrings(args)
    for field in dataclasses.fields(args):
        if field.name in own:
            assert inspect.cleandoc(analyzer.get_docstring(args, field.name) or "") == docs[field.name]


def test_defaults_on_the_page_are_the_ones_that_apply() -> None:
    from lepton_infra.components.aws import AwsEksClusterArgs

    page = PAGE.read_text(encoding="utf-8")
    section = page.split("### AwsEksCluster\n", 1)[1].split("\n### ", 1)[0]
    retention = re.search(r"\*\*`log_retention_days`\*\* \(`int`, default `(\d+)`\)", section)
    assert retention is not None
    assert int(retention[1]) == AwsEksClusterArgs.__dataclass_fields__["log_retention_days"].default


def test_the_readme_links_the_reference() -> None:
    assert "docs/components.md" in (ROOT / "README.md").read_text(encoding="utf-8")
