"""Defender for Containers: an opt-in, subscription-wide plan that scans the registry's images, which
`pulumi destroy` of a site never turns off, and the policy that asks for it."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from plan_helpers import ROOT, config_plan, only, spec_issues, stack_config, stack_plan

from lepton_infra.cli import main
from lepton_infra.plan.evaluate import evaluate
from lepton_infra.plan.model import Plan
from lepton_infra.policies.config import PackConfig

PRICING = "azure-native:security:Pricing"
POLICY = "azure-acr-vulnerability-scanning"
REGISTRY_SCANNING = "ContainerRegistriesVulnerabilityAssessments"


@pytest.fixture(scope="module")
def prod() -> Plan:
    return stack_plan("azure-prod")


def without_defender(stack: str) -> dict[str, Any]:
    config = copy.deepcopy(stack_config(stack))
    for site in config["sites"]:
        site.pop("defender_for_containers", None)
    return config


def test_the_plan_is_containers_at_standard_on_the_sites_subscription(prod: Plan) -> None:
    plan = only(prod, PRICING)
    assert (plan.inputs["pricingName"], plan.inputs["pricingTier"]) == ("Containers", "Standard")
    # The subscription the site's other resources are made in (its vault's id says which).
    vault = only(prod, "azure-native:keyvault:Vault").outputs["id"]
    subscription = "/".join(vault.split("/")[:3])
    assert plan.inputs["scopeId"] == subscription
    assert (plan.provider or "").startswith(only(prod, "pulumi:providers:azure-native").urn + "::")
    assert plan.parent is not None and "lepton:azure:DefenderForContainers" in plan.parent


def test_the_plan_scans_registry_images_and_turns_no_extension_off(prod: Plan) -> None:
    """Azure documents registry scanning as the plan's "Registry access"
    (https://docs.azure.cn/en-us/defender-for-cloud/defender-for-container-registries-usage). The plan names
    only extensions it enables: the Defender sensor or any other one the subscription's owner chose stays
    as it is (a PUT leaves unnamed extensions alone; hashicorp/terraform-provider-azurerm#22997)."""
    extensions = {e["name"]: e["isEnabled"] for e in only(prod, PRICING).inputs["extensions"]}
    assert extensions[REGISTRY_SCANNING] == "True"
    assert set(extensions.values()) == {"True"}
    assert "ContainerSensor" not in extensions


def test_destroying_the_site_leaves_the_subscriptions_plan_on(prod: Plan) -> None:
    """Azure refuses DELETE on a subscription's plan ("Delete operation is supported only for single
    resources scope (not subscriptions)", Azure/terraform-provider-azapi#818), and providers that emulate it
    reset the plan to Free for the whole subscription (hashicorp/terraform-provider-azurerm#21437): the
    resource is retained, so `pulumi destroy` of one site neither fails nor downgrades everyone. It is not
    protected: that would make `pulumi destroy` of the stack fail."""
    plan = only(prod, PRICING)
    assert plan.options.get("retainOnDelete") is True
    assert plan.protect is False


def test_the_plan_is_off_unless_a_site_asks_for_it_as_it_costs_money() -> None:
    plan = config_plan(without_defender("azure-prod"), stack="azure-prod")
    assert plan.of_type(PRICING) == []
    [flagged] = [v for v in evaluate(plan) if v.policy == POLICY]
    assert flagged.enforcement == "advisory"
    assert "no Defender for Containers plan scans the registry's images" in flagged.message


def test_the_prod_stacks_pass_the_policy(prod: Plan) -> None:
    assert [v for v in evaluate(prod) if v.policy == POLICY] == []
    multicloud = stack_plan("multicloud")
    assert len(multicloud.of_type(PRICING)) == 1
    assert [v for v in evaluate(multicloud) if v.policy == POLICY] == []


def test_a_centrally_managed_plan_is_declared_to_the_pack_by_site() -> None:
    plan = config_plan(without_defender("azure-prod"), stack="azure-prod")
    declared = PackConfig(external_defender=["azure-weu"])
    assert [v for v in evaluate(plan, declared) if v.policy == POLICY] == []
    elsewhere = PackConfig(external_defender=["another-site"])
    assert [v.policy for v in evaluate(plan, elsewhere) if v.policy == POLICY] == [POLICY]


def second_azure_site(config: dict[str, Any]) -> dict[str, Any]:
    second = copy.deepcopy(config["sites"][0])
    second["name"] = "azure-neu"
    second["region"] = "northeurope"
    second["network"]["cidr"] = "10.41.0.0/16"
    second["gpu_pools"] = []
    config["sites"].append(second)
    return config


def test_one_stack_turns_the_subscription_plan_on_from_one_site_only() -> None:
    """Both sites sign in to one subscription, whose plan is one object: two owners would undo each other."""
    config = second_azure_site(copy.deepcopy(stack_config("azure-prod")))
    problem = dict(spec_issues(config))["sites[1].defender_for_containers"]
    assert "'azure-weu' already turns on Defender for Containers" in problem
    config["sites"][1]["defender_for_containers"] = False
    assert len(config_plan(config).of_type(PRICING)) == 1


def test_validate_names_the_file_and_the_field_of_the_second_site(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "stacks").mkdir()
    document = yaml.safe_load((ROOT / "stacks" / "Pulumi.azure-prod.yaml").read_text())
    second_azure_site(document["config"]["lepton-infra:platform"])
    (tmp_path / "stacks" / "Pulumi.azure-prod.yaml").write_text(yaml.safe_dump(document))
    code = main(["validate", "--project", str(tmp_path), "--stack", "azure-prod"])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    assert "Pulumi.azure-prod.yaml" in err
    assert "sites[1].defender_for_containers" in err
