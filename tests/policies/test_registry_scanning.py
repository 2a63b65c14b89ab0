"""Which Defender plans scan ACR images: judged from the plan's name, tier and named extensions."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from policy_fixtures import FIXTURES, load, plan

from lepton_infra.plan.evaluate import evaluate

POLICY = "azure-acr-vulnerability-scanning"


def with_plan(inputs: dict[str, Any]) -> list[str]:
    data = copy.deepcopy(load(FIXTURES / "azure" / "site.yaml"))
    [pricing] = [e for e in data["resources"] if e["type"] == "azure-native:security:Pricing"]
    pricing["inputs"] = {"scopeId": "/subscriptions/s", **inputs}
    return [v.message for v in evaluate(plan(data)) if v.policy == POLICY]


SCANNING = [{"name": "ContainerRegistriesVulnerabilityAssessments", "isEnabled": "True"}]


@pytest.mark.parametrize(
    "inputs",
    [
        # "Registry access" on Defender for Containers or on Defender CSPM scans registry images
        # (https://docs.azure.cn/en-us/defender-for-cloud/defender-for-container-registries-usage).
        {"pricingName": "Containers", "pricingTier": "Standard", "extensions": SCANNING},
        {"pricingName": "CloudPosture", "pricingTier": "Standard", "extensions": SCANNING},
        # The older Defender for container registries plan has no extensions: its tier is the switch.
        {"pricingName": "ContainerRegistry", "pricingTier": "Standard"},
    ],
    ids=["containers", "cspm", "container-registry"],
)
def test_a_plan_with_registry_access_passes(inputs: dict[str, Any]) -> None:
    assert with_plan(inputs) == []


def test_extensions_cannot_scan_on_the_free_tier() -> None:
    """Extensions belong to the Standard tier: terraform-provider-azurerm refuses them on Free ("extensions
    cannot be enabled when using free tier", hashicorp/terraform-provider-azurerm#23571 and #22997), so one
    named there scans nothing."""
    [message] = with_plan({"pricingName": "Containers", "pricingTier": "Free", "extensions": SCANNING})
    assert "tier Standard" in message
