"""The platform spec: frozen, closed, described, and the cross-field rules that join sites and workloads."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from plan_helpers import spec_issues, stack_config
from pydantic import BaseModel, ValidationError

from lepton_infra.blueprint import PlatformSpec


def base() -> dict[str, Any]:
    return copy.deepcopy(stack_config("aws-dev"))


def test_the_example_stacks_are_valid() -> None:
    spec = PlatformSpec.model_validate(base())
    assert spec.sites[0].gpu_pools[0].accelerator == "L4"


def test_models_are_frozen_closed_and_every_field_is_described() -> None:
    def models(model: type[BaseModel], seen: set[type[BaseModel]]) -> set[type[BaseModel]]:
        seen.add(model)
        for field in model.model_fields.values():
            for candidate in _types_in(field.annotation):
                if isinstance(candidate, type) and issubclass(candidate, BaseModel) and candidate not in seen:
                    models(candidate, seen)
        return seen

    for model in models(PlatformSpec, set()):
        assert model.model_config.get("frozen") is True, model
        assert model.model_config.get("extra") == "forbid", model
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"


def _types_in(annotation: Any) -> list[Any]:
    import typing

    found = [annotation]
    for arg in typing.get_args(annotation):
        found += _types_in(arg)
    return found


def test_unknown_key_is_refused() -> None:
    config = base()
    config["sites"][0]["gpu_pools"][0]["acelerator"] = "L4"
    with pytest.raises(ValidationError, match="acelerator"):
        PlatformSpec.model_validate(config)


def test_min_nodes_above_max_nodes_is_refused() -> None:
    config = base()
    config["sites"][0]["gpu_pools"][0].update(min_nodes=5, max_nodes=2)
    with pytest.raises(ValidationError, match=r"min_nodes \(5\) must not exceed max_nodes \(2\)"):
        PlatformSpec.model_validate(config)


def test_accelerator_not_sold_by_the_cloud_names_what_is() -> None:
    config = base()
    config["sites"][0]["gpu_pools"][0]["accelerator"] = "A10"
    (issue, *_) = spec_issues(config)
    assert issue[0] == "sites[0].gpu_pools[0].accelerator"
    assert "A10 is not offered on aws" in issue[1] and "A10G" in issue[1]


def test_accelerator_outside_the_regions_partition_is_refused() -> None:
    config = base()
    config["sites"][0]["region"] = "cn-north-1"
    issues = spec_issues(config)
    assert "sites[0].gpu_pools[0].accelerator" in {path for path, _ in issues}
    assert any("partition" in message for _, message in issues)


def test_instance_type_must_carry_the_pools_accelerator() -> None:
    config = base()
    config["sites"][0]["gpu_pools"][0]["instance_type"] = "p5.48xlarge"
    issues = spec_issues(config)
    assert issues[0][0] == "sites[0].gpu_pools[0].instance_type"
    assert "g6.xlarge" in issues[0][1]


def test_workload_needs_a_pool_of_its_accelerator_on_each_site() -> None:
    config = base()
    config["workloads"][1]["accelerator"] = "H100"
    issues = spec_issues(config)
    assert any(path == "workloads[1].accelerator" and "no GPU pool of H100" in msg for path, msg in issues)


def test_workload_on_an_unknown_site_is_refused() -> None:
    config = base()
    config["workloads"][0]["sites"] = ["aws-usw2", "gcp-somewhere"]
    issues = spec_issues(config)
    assert ("workloads[0].sites[1]", "no site named 'gcp-somewhere'; sites: aws-usw2") in issues


def test_more_gpus_per_pod_than_a_node_has_is_refused() -> None:
    config = base()
    config["workloads"][0]["gpus_per_node"] = 2
    issues = spec_issues(config)
    assert any(path == "workloads[0].gpus_per_node" and "at most 1" in msg for path, msg in issues)


def test_duplicate_names_are_refused_and_every_problem_is_reported() -> None:
    config = base()
    config["sites"][0]["gpu_pools"].append(dict(config["sites"][0]["gpu_pools"][0]))
    config["workloads"][1]["name"] = "pretrain"
    paths = {path for path, _ in spec_issues(config)}
    assert {"sites[0].gpu_pools", "workloads"} <= paths


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [("cidr", "8.8.0.0/16", "not a private range"), ("cidr", "10.0.0.0/24", "between /16 and /20")],
)
def test_network_must_be_private_and_sized(field: str, value: str, fragment: str) -> None:
    config = base()
    config["sites"][0]["network"][field] = value
    with pytest.raises(ValidationError, match=fragment):
        PlatformSpec.model_validate(config)


def test_an_allowlist_of_everything_is_refused() -> None:
    config = base()
    config["sites"][0]["network"]["api_allowlist"] = ["0.0.0.0/0"]
    with pytest.raises(ValidationError, match="covers every IPv4 address"):
        PlatformSpec.model_validate(config)


def test_unsupported_kubernetes_version_names_the_supported_ones() -> None:
    config = base()
    config["sites"][0]["kubernetes_version"] = "1.20"
    with pytest.raises(ValidationError, match=r"1\.31, 1\.32, 1\.33"):
        PlatformSpec.model_validate(config)
