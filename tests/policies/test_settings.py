"""Each policy setting is declared once (``PolicySettings``); the pack config file's fields, the Pulumi
policy config keys and schemas, and the values a rule reads back are all derived from that declaration."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from lepton_infra.policies.config import PackConfig
from lepton_infra.policies.registry import all_policies
from lepton_infra.policies.settings import SETTINGS, PolicySettings, config_schema, settings_from

# A value a user might write for each setting, and what a rule then reads.
EXAMPLES: dict[str, tuple[Any, Any]] = {
    "allowed_registries": (["ghcr.io"], ("ghcr.io",)),
    "allowed_regions": (["us-west-2"], ("us-west-2",)),
    "allowed_api_cidrs": (["10.0.0.0/8"], ("10.0.0.0/8",)),
    "required_tags": (["owner"], ("owner",)),
    "required_labels": (["team"], ("team",)),
    "required_eks_log_types": (["audit"], ("audit",)),
    "max_gpus_per_node": (4, 4),
    "max_gpus_per_stack": (16, 16),
    "external_budgets": (["ali-hz"], ("ali-hz",)),
    "external_defender": (["azure-weu"], ("azure-weu",)),
    "max_public_ipv4_addresses": (2**16, 2**16),
    "max_public_ipv6_addresses": (2**80, 2**80),
    "min_kubernetes_version": ("1.32", "1.32"),
}


def test_every_settable_field_of_the_settings_is_declared_with_an_example() -> None:
    settable = {f.name for f in dataclasses.fields(PolicySettings)} - {"exemptions"}
    assert {s.name for s in SETTINGS} == settable == set(EXAMPLES)
    assert all(s.description.endswith(".") and s.key[0].islower() and "_" not in s.key for s in SETTINGS)


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_a_setting_flows_from_the_pack_config_file_to_the_rule(setting: Any) -> None:
    written, read = EXAMPLES[setting.name]
    config = PackConfig.model_validate({setting.name: written})
    assert PackConfig.model_fields[setting.name].description == setting.description
    readers = [r for r in all_policies() if setting.key in r.config_keys]
    assert readers, f"no policy reads {setting.key}"
    pulumi_config = config.to_pulumi_config(readers)
    for rule in readers:
        assert pulumi_config[rule.name][setting.key] == written
        assert getattr(settings_from(pulumi_config[rule.name]), setting.name) == read
    assert getattr(PolicySettings(), setting.name) == setting.default
    assert config_schema([setting.key])[setting.key] == dict(setting.schema)


def test_integer_settings_keep_their_schema_minimum_in_the_file() -> None:
    for setting in SETTINGS:
        if "minimum" in setting.schema:
            with pytest.raises(ValueError, match="greater than or equal"):
                PackConfig.model_validate({setting.name: setting.schema["minimum"] - 1})


def test_every_policy_announces_exemptions_in_its_schema() -> None:
    assert list(config_schema(["maxGpusPerStack"])) == ["maxGpusPerStack", "exemptions"]
