"""The stack-file schema editors use agrees with the spec `lepton-infra validate` applies.

Every example stack validates as a whole file; each mistake below is refused by both or by neither; a
mistake inside a tagged union (a training workload, an AWS site) is reported at its own field by
jsonschema's ``best_match`` (the message an editor's validator picks), never as another branch's tag.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from lepton_infra.cli import main
from lepton_infra.errors import ConfigError
from lepton_infra.project import PLATFORM_KEY, validate_platform
from lepton_infra.stack_schema import DIALECT, MODELINE, SCHEMA_FILE, SCHEMA_ID, stack_file_schema

ROOT = Path(__file__).resolve().parents[2]
STACKS = sorted((ROOT / "stacks").glob("Pulumi.*.yaml"))
VALIDATOR = Draft202012Validator(stack_file_schema())


def _stack(name: str = "aws-dev") -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{name}.yaml").read_text())
    return loaded


def _platform(data: dict[str, Any]) -> dict[str, Any]:
    platform: dict[str, Any] = data["config"][PLATFORM_KEY]
    return platform


def _first(items: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    return next(item for item in items if all(item.get(k) == v for k, v in match.items()))


def _spec_accepts(data: dict[str, Any]) -> bool:
    try:
        validate_platform(_platform(data), "Pulumi.aws-dev.yaml")
    except ConfigError:
        return False
    return True


def test_the_schema_is_draft_2020_12_with_an_id() -> None:
    schema = stack_file_schema()
    Draft202012Validator.check_schema(schema)
    assert (schema["$schema"], schema["$id"]) == (DIALECT, SCHEMA_ID)


@pytest.mark.parametrize("path", STACKS, ids=lambda p: p.name)
def test_every_example_stack_validates_as_a_whole_file_and_names_the_schema(path: Path) -> None:
    text = path.read_text()
    assert text.splitlines()[0] == MODELINE
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(yaml.safe_load(text))]
    assert errors == []


def test_the_committed_schema_is_what_the_command_prints(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    committed = json.loads((ROOT / SCHEMA_FILE).read_text())
    assert printed == committed, f"stale: run `lepton-infra schema > {SCHEMA_FILE}`"


def test_the_readme_shows_the_modeline() -> None:
    assert "# yaml-language-server: $schema=" in (ROOT / "README.md").read_text()


def test_pulumi_keys_other_config_and_secure_values_are_allowed() -> None:
    data = _stack()
    data["encryptionsalt"] = "v1:c2FsdA==:v1:abc:def"
    data["secretsprovider"] = "passphrase"
    data["config"]["lepton-infra:kubeconfig"] = {"secure": "v1:AAAA"}
    data["config"]["aws:region"] = "us-west-2"
    assert list(VALIDATOR.iter_errors(data)) == []


def _key(part: str) -> str | int:
    return int(part) if part.isdigit() else part


def _parent(data: dict[str, Any], path: str) -> tuple[Any, str | int]:
    """The node holding the last part of ``path`` (``sites.0.gpu_pools.0.spot``) in the platform, and
    that part."""
    node: Any = _platform(data)
    *parents, last = path.split(".")
    for part in parents:
        node = node[_key(part)]
    return node, _key(last)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        node, key = _parent(data, path)
        node[key] = value

    return mutate


def _drop(path: str) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        node, key = _parent(data, path)
        del node[key]

    return mutate


def _all(*mutations: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        for one in mutations:
            one(data)

    return mutate


# (mutation, accepted): the spec and the schema must both give `accepted`.
CASES: dict[str, tuple[Callable[[dict[str, Any]], None], bool]] = {
    # A quoted boolean or number: pydantic's lax mode took these until the spec refused them too.
    "spot quoted yes": (_set("sites.0.gpu_pools.0.spot", "yes"), False),
    "spot quoted true": (_set("sites.0.gpu_pools.0.spot", "true"), False),
    "max_nodes quoted": (_set("sites.0.gpu_pools.0.max_nodes", "4"), False),
    "max_nodes a boolean": (_set("sites.0.gpu_pools.0.max_nodes", True), False),
    "max_nodes fractional": (_set("sites.0.gpu_pools.0.max_nodes", 2.5), False),
    "max_nodes integral float": (_set("sites.0.gpu_pools.0.max_nodes", 4.0), True),
    "max_nodes over its bound": (_set("sites.0.gpu_pools.0.max_nodes", 1001), False),
    "kubernetes_version a number": (_set("sites.0.kubernetes_version", 1.33), False),
    "unknown accelerator": (_set("sites.0.gpu_pools.0.accelerator", "V100"), False),
    "misspelled key": (_set("sites.0.gpu_pools.0.spto", True), False),
    "unknown cloud": (_set("sites.0.cloud", "gcp"), False),
    "unknown workload kind": (_set("workloads.0.kind", "batch"), False),
    "training nodes quoted": (_set("workloads.0.nodes", "2"), False),
    "missing sites": (_drop("sites"), False),
    "missing max_nodes": (_drop("sites.0.gpu_pools.0.max_nodes"), False),
    "spot false": (_set("sites.0.gpu_pools.0.spot", False), True),
    # A 50 GiB node keeps 4 GiB for a pod's scratch space (catalog.node_disk): a training job there asks
    # for no more, or the spec refuses what the schema cannot see (a rule across fields).
    "disk_gib at its floor": (
        _all(_set("sites.0.gpu_pools.0.disk_gib", 50), _set("workloads.0.scratch_disk_gib", 4)),
        True,
    ),
    "disk_gib below its floor": (_set("sites.0.gpu_pools.0.disk_gib", 49), False),
    "bad site name": (_set("sites.0.name", "AWS_usw2"), False),
}


@pytest.mark.parametrize("case", CASES)
def test_the_schema_and_the_spec_agree(case: str) -> None:
    mutate, accepted = CASES[case]
    data = copy.deepcopy(_stack())
    mutate(data)
    assert _spec_accepts(data) is accepted
    assert VALIDATOR.is_valid(data) is accepted


def test_a_quoted_boolean_is_refused_naming_field_and_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: lepton-infra\nruntime: python\nstackConfigDir: stacks\n")
    (tmp_path / "stacks").mkdir()
    text = (ROOT / "stacks" / "Pulumi.aws-dev.yaml").read_text()
    assert "spot: true}" in text
    (tmp_path / "stacks" / "Pulumi.aws-dev.yaml").write_text(text.replace("spot: true}", 'spot: "yes"}'))
    assert main(["validate", "--project", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Pulumi.aws-dev.yaml" in err
    assert "sites[0].gpu_pools[0].spot: expected a boolean (true or false), got the string 'yes'" in err


@pytest.mark.parametrize(
    ("mutation", "path", "says"),
    [
        # Inside a training workload: the field, not "'inference' was expected".
        (_set("workloads.0.nodes", "two"), ["workloads", 0, "nodes"], "integer"),
        (_set("workloads.0.nodez", 2), ["workloads", 0], "'nodez' was unexpected"),
        (_set("workloads.0.kind", "trainin"), ["workloads", 0, "kind"], "'training'"),
        # Inside an AWS site and its pool.
        (_set("sites.0.gpu_pools.0.spot", "yes"), ["sites", 0, "gpu_pools", 0, "spot"], "boolean"),
        (_set("sites.0.regio", "us-west-2"), ["sites", 0], "'regio' was unexpected"),
    ],
)
def test_a_mistake_in_a_tagged_union_is_reported_in_its_own_branch(
    mutation: Callable[[dict[str, Any]], None], path: list[Any], says: str
) -> None:
    data = copy.deepcopy(_stack())
    assert _first(_platform(data)["workloads"], kind="training") is _platform(data)["workloads"][0]
    mutation(data)
    error = best_match(VALIDATOR.iter_errors(data))
    assert error is not None
    assert list(error.absolute_path) == ["config", PLATFORM_KEY, *path]
    assert says in error.message
    assert "was expected" not in error.message
