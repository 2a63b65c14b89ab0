"""The package schema: valid by Pulumi's own metaschema, complete, documented, and true to what it wraps."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pulumi
import pytest
from jsonschema import _keywords, validators
from pulumi.provider.experimental.component import ComponentProvider

from lepton_infra.package import COMPONENT_MODULES, PACKAGE_NAME, component_classes
from lepton_infra.package.base import PackageComponent

ROOT = Path(__file__).resolve().parents[2]
METASCHEMA = ROOT / "tests" / "schemas" / "pulumi" / "pulumi.json"


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    # The metaschema's version patterns use ECMAScript named groups, `(?<name>`; Python's are `(?P<name>`.
    return _keywords.pattern(validator, re.sub(r"\(\?<(?=[A-Za-z])", "(?P<", pattern), instance, schema)


MetaschemaValidator = validators.extend(jsonschema.Draft202012Validator, {"pattern": _ecma_pattern})


def test_the_schema_is_valid_by_pulumis_package_metaschema(schema: dict[str, Any]) -> None:
    metaschema = json.loads(METASCHEMA.read_text())
    assert metaschema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in MetaschemaValidator(metaschema).iter_errors(schema)
    ]
    assert errors == []


def test_the_metaschema_check_would_catch_a_broken_schema(schema: dict[str, Any]) -> None:
    metaschema = json.loads(METASCHEMA.read_text())
    broken = {**schema, "version": "one", "resources": {"no-token": {"isComponent": "yes"}}}
    assert len(list(MetaschemaValidator(metaschema).iter_errors(broken))) >= 3


def _descriptions(schema: dict[str, Any]) -> dict[str, str | None]:
    """Every component, type, input, output, type property and enum value, by where it is."""
    found: dict[str, str | None] = {}
    for token, resource in schema["resources"].items():
        found[token] = resource.get("description")
        for kind in ("inputProperties", "properties"):
            for name, prop in resource[kind].items():
                found[f"{token}.{kind}.{name}"] = prop.get("description")
    for token, type_ in schema["types"].items():
        found[token] = type_.get("description")
        for name, prop in (type_.get("properties") or {}).items():
            found[f"{token}.{name}"] = prop.get("description")
        for value in type_.get("enum") or []:
            found[f"{token}.{value['name']}"] = value.get("description")
    return found


def test_every_component_input_output_and_type_is_described(schema: dict[str, Any]) -> None:
    descriptions = _descriptions(schema)
    assert [where for where, text in descriptions.items() if not (text or "").strip()] == []
    # Descriptions are Markdown paragraphs: our docstrings' wrapping and indentation are gone.
    assert [where for where, text in descriptions.items() if text and re.search(r"\n[ \t]", text)] == []


def test_the_schema_covers_every_public_component_of_every_cloud_and_the_kubernetes_layer(
    schema: dict[str, Any],
) -> None:
    tokens = set(schema["resources"])
    for cloud in ("aws", "azure", "alicloud"):
        module = importlib.import_module(f"lepton_infra.components.{cloud}")
        public = {
            name
            for name in module.__all__
            if inspect.isclass(getattr(module, name))
            and issubclass(getattr(module, name), pulumi.ComponentResource)
        }
        assert public, cloud
        assert {t for t in public if f"{PACKAGE_NAME}:index:{t}" not in tokens} == set(), cloud
    kubernetes = {
        "GpuRuntime",
        "TenantNamespace",
        "TrainingJob",
        "InferenceService",
        "MetricsAdapter",
        "Platform",
    }
    assert {f"{PACKAGE_NAME}:index:{name}" for name in kubernetes} <= tokens


def test_every_token_is_one_the_provider_host_accepts(schema: dict[str, Any]) -> None:
    for component in component_classes():
        assert issubclass(component, PackageComponent)
        token = component.token()
        ComponentProvider.validate_resource_type(PACKAGE_NAME, token)
        assert token == f"{PACKAGE_NAME}:index:{component.__name__}"
        assert token in schema["resources"]
    assert all(t.startswith(f"{PACKAGE_NAME}:index:") for t in (*schema["resources"], *schema["types"]))


def test_the_schema_carries_the_distributions_version(schema: dict[str, Any]) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert schema["name"] == PACKAGE_NAME
    assert schema["version"] == project["version"]


@pytest.mark.parametrize(
    "module",
    [
        *COMPONENT_MODULES,
        "lepton_infra.package.base",
        "lepton_infra.package.cluster",
        "lepton_infra.package.workloads",
    ],
)
def test_no_module_the_analyzer_reads_postpones_its_annotations(module: str) -> None:
    """Pulumi's analyzer reads annotations as objects; postponed, they are strings and it fails (`'str'
    object has no attribute '__mro__'`)."""
    source = Path(importlib.import_module(module).__file__ or "").read_text()
    futures = [
        node
        for node in ast.parse(source).body
        if isinstance(node, ast.ImportFrom)
        and node.module == "__future__"
        and any(alias.name == "annotations" for alias in node.names)
    ]
    assert futures == []
