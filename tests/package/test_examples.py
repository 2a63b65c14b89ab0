"""The examples that use the package from other languages name only what its schema has.

examples/yaml-aks is checked as `pulumi preview` would check its types (tests/package/yaml_program.py).
examples/typescript-eks uses an SDK that `pulumi package add` generates, which needs the Pulumi CLI (absent
here): its component classes and the keys of its argument objects are checked against the schema, its
TypeScript is not compiled.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from yaml_program import YamlProgram

from lepton_infra.package import PACKAGE_NAME

ROOT = Path(__file__).resolve().parents[2]
YAML_AKS = ROOT / "examples" / "yaml-aks"
TYPESCRIPT_EKS = ROOT / "examples" / "typescript-eks"


@pytest.fixture(scope="module")
def program() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((YAML_AKS / "Pulumi.yaml").read_text())
    return loaded


def test_the_yaml_example_names_only_types_and_properties_the_schema_has(
    program: dict[str, Any], schema: dict[str, Any]
) -> None:
    checked = YamlProgram(program, schema, PACKAGE_NAME)
    assert checked.check() == []
    used = {token.rsplit(":", 1)[-1] for _, token in checked.package_resources()}
    assert {
        "AzureNetwork",
        "AzureAksCluster",
        "AzureGpuNodePool",
        "AzureWorkloadIdentity",
        "TrainingJob",
        "InferenceService",
        "MetricsAdapter",
    } <= used


def test_the_yaml_check_catches_what_preview_would_refuse(
    program: dict[str, Any], schema: dict[str, Any]
) -> None:
    broken = copy.deepcopy(program)
    resources = broken["resources"]
    resources["network"]["properties"]["cidrBlock"] = "10.30.0.0/16"
    resources["h100"]["properties"]["pool"]["minNodes"] = "none"
    resources["aks"]["properties"]["clusterName"] = "${network.vnetId}"
    resources["vaultLink"]["properties"]["service"] = "keyvault"
    resources["pretrain"]["properties"]["workload"]["accelerator"] = "H200"
    del resources["ml"]["properties"]["quota"]
    broken["outputs"]["kubeconfig"] = "${aks.kubeconfigs}"

    problems = YamlProgram(broken, schema, PACKAGE_NAME).check()
    expected = [
        "network.cidrBlock: not an input",
        "h100.pool.minNodes: 'none' is not of type integer",
        "aks.clusterName: ${network.vnetId} is an output, but the input must be a plain value",
        "vaultLink.service: 'keyvault' is not one of",
        "pretrain.workload.accelerator: 'H200' is not one of",
        "ml.quota: required input is missing",
        "outputs.kubeconfig: ${aks.kubeconfigs}: kubeconfigs is not an output",
    ]
    assert [e for e in expected if not any(p.startswith(e) for p in problems)] == []
    assert len(problems) == len(expected)


def test_the_yaml_example_adds_the_package_from_this_repositorys_plugin(program: dict[str, Any]) -> None:
    assert program["runtime"] == "yaml"
    plugin = (YAML_AKS / program["packages"][PACKAGE_NAME]).resolve()
    assert (plugin / "PulumiPlugin.yaml").is_file()
    assert plugin == ROOT / "provider"


def _arguments(source: str, start: int) -> str:
    """The text of the object literal that starts at or after ``start``, braces balanced."""
    begin = source.index("{", start)
    depth = 0
    for index in range(begin, len(source)):
        depth += {"{": 1, "}": -1}.get(source[index], 0)
        if depth == 0:
            return source[begin + 1 : index]
    raise AssertionError("unbalanced braces")


def _top_level_keys(literal: str) -> set[str]:
    keys, depth = set(), 0
    for match in re.finditer(r"[{}\[\]()]|(?:^|[,{\s])([A-Za-z_][A-Za-z0-9_]*)\s*:", literal):
        token = match.group(0).strip()
        if token in "{[(":
            depth += 1
        elif token in "}])":
            depth -= 1
        elif depth == 0 and match.group(1):
            keys.add(match.group(1))
    return keys


def test_the_typescript_example_constructs_components_the_schema_has_with_their_inputs(
    schema: dict[str, Any],
) -> None:
    source = re.sub(r"(?m)^\s*//.*$", "", (TYPESCRIPT_EKS / "index.ts").read_text())
    constructions = list(re.finditer(r"new lepton\.(\w+)\(\s*\"[^\"]+\",", source))
    assert len(constructions) >= 8
    for construction in constructions:
        token = f"{PACKAGE_NAME}:index:{construction[1]}"
        assert token in schema["resources"], construction[1]
        inputs = schema["resources"][token]
        keys = _top_level_keys(_arguments(source, construction.end()))
        assert keys <= set(inputs["inputProperties"]), (
            construction[1],
            keys - set(inputs["inputProperties"]),
        )
        assert set(inputs["requiredInputs"]) <= keys, (construction[1], set(inputs["requiredInputs"]) - keys)


def test_the_typescript_example_says_it_is_unverified_and_how_its_sdk_is_made() -> None:
    readme = (TYPESCRIPT_EKS / "README.md").read_text()
    assert "unverified" in readme.lower()
    assert "pulumi package add" in readme
    package = (TYPESCRIPT_EKS / "package.json").read_text()
    assert f'"@pulumi/{PACKAGE_NAME}"' in package


def test_the_typescript_example_names_enum_members_as_the_generated_sdk_spells_them(
    schema: dict[str, Any],
) -> None:
    """The TypeScript generator keeps an enum member's schema name with its first letter upper-cased
    (pulumi/pulumi pkg/codegen/nodejs, makeSafeEnumName): ``GpuModel.H100``,
    ``AwsAddonStage.BEFORE_NODES``."""
    source = (TYPESCRIPT_EKS / "index.ts").read_text()
    used = re.findall(r"lepton\.(\w+)\.(\w+)", source)
    assert used
    for enum, member in used:
        members = schema["types"][f"{PACKAGE_NAME}:index:{enum}"]["enum"]
        assert member in {m["name"][0].upper() + m["name"][1:] for m in members}, (enum, member)
