"""Azure pieces that need no plan: spec rules, the kubeconfig rewrite, names and subnet layout."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from plan_helpers import stack_config
from pydantic import ValidationError

from lepton_infra.blueprint import PlatformSpec
from lepton_infra.components.azure.cluster import non_interactive_kubeconfig
from lepton_infra.components.azure.names import global_name
from lepton_infra.components.azure.network import subnet_cidrs


def azure_site(**changes: Any) -> dict[str, Any]:
    platform: dict[str, Any] = copy.deepcopy(stack_config("azure-prod"))
    platform["sites"][0].update(changes)
    return platform


def errors_of(platform: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        PlatformSpec.model_validate(platform)
    return str(caught.value)


def test_the_azure_prod_stack_is_valid() -> None:
    spec = PlatformSpec.model_validate(stack_config("azure-prod"))
    assert spec.sites[0].cloud == "azure"


def test_pod_and_service_ranges_must_not_overlap_the_vnet() -> None:
    message = errors_of(azure_site(service_cidr="10.40.128.0/20"))
    assert "service_cidr" in message and "overlaps network.cidr" in message


def test_gpu_pool_names_follow_the_aks_agent_pool_rule() -> None:
    platform = azure_site()
    platform["sites"][0]["gpu_pools"][0]["name"] = "h100-training"
    assert "1-12 lowercase letters and digits" in errors_of(platform)


def test_an_admin_group_is_required_because_local_accounts_are_off() -> None:
    assert "admin_group_object_ids" in errors_of(azure_site(admin_group_object_ids=[]))


def test_keys_rotate_before_they_expire() -> None:
    assert "key_rotation_days" in errors_of(azure_site(key_rotation_days=400, key_expiry_days=365))


def test_regions_are_azure_location_names() -> None:
    assert "region" in errors_of(azure_site(region="West Europe"))


def test_kubeconfig_signs_in_with_the_azure_cli_instead_of_a_device_code() -> None:
    raw = yaml.safe_dump(
        {
            "users": [
                {
                    "name": "u",
                    "user": {
                        "exec": {
                            "command": "kubelogin",
                            "args": ["get-token", "--login", "devicecode", "--server-id", "x"],
                        }
                    },
                }
            ]
        }
    )
    args = yaml.safe_load(non_interactive_kubeconfig(raw))["users"][0]["user"]["exec"]["args"]
    assert args == ["get-token", "--login", "azurecli", "--server-id", "x"]


def test_global_names_fit_azure_rules_and_stay_stable() -> None:
    vault = global_name("lepton-azure-westeurope-kv", max_length=24)
    registry = global_name("lepton-azure-weu-registry", max_length=50, alphanumeric=True)
    storage = global_name("lepton-azure-weu-artifacts", max_length=24, alphanumeric=True)
    assert len(vault) <= 24 and vault[0].isalpha() and "--" not in vault
    assert registry.isalnum() and storage.isalnum() and len(storage) <= 24
    assert global_name("lepton-azure-weu-registry", max_length=50, alphanumeric=True) == registry


def test_subnets_sit_inside_the_vnet_without_overlapping() -> None:
    import ipaddress

    plan = subnet_cidrs("10.40.0.0/16")
    nets = [ipaddress.IPv4Network(c) for c in (plan.nodes, plan.api_server, plan.endpoints)]
    assert all(n.subnet_of(ipaddress.IPv4Network("10.40.0.0/16")) for n in nets)
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])
