"""A monthly cost budget per site, as the cloud's own budget resource, and the policy that asks for one."""

from __future__ import annotations

import copy
import datetime
import json

import pytest
from plan_helpers import only, spec_issues, stack_config, stack_plan

from lepton_infra.components.azure.budget import month_start
from lepton_infra.plan.evaluate import evaluate
from lepton_infra.policies.config import PackConfig

POLICY = "governance-site-cost-budget"


def test_an_aws_site_s_budget_tracks_what_its_resources_are_tagged_with() -> None:
    plan = stack_plan("aws-prod")
    budget = only(plan, "aws:budgets/budget:Budget").inputs
    assert (budget["budgetType"], budget["timeUnit"], budget["limitAmount"], budget["limitUnit"]) == (
        "COST",
        "MONTHLY",
        "250000.00",
        "USD",
    )
    # AWS Budgets' tag filter is `user:<key>$<value>` (aws-cli budgets create-budget example); it must name
    # the tag the site's resources carry, here through the provider's default tags.
    [cost_filter] = budget["costFilters"]
    assert cost_filter == {"name": "TagKeyValue", "values": ["user:lepton:site$aws-usw2"]}
    provider = only(plan, "pulumi:providers:aws").inputs
    default_tags = provider["defaultTags"]
    tags = (json.loads(default_tags) if isinstance(default_tags, str) else default_tags)["tags"]
    assert tags["lepton:site"] == "aws-usw2"
    alerts = sorted((n["notificationType"], n["threshold"]) for n in budget["notifications"])
    assert alerts == [("ACTUAL", 80), ("ACTUAL", 100), ("FORECASTED", 100)]
    assert all(
        n["subscriberEmailAddresses"] == ["ml-platform-finops@example.com"] for n in budget["notifications"]
    )


def test_an_azure_site_s_budget_covers_the_subscription_s_resources_tagged_with_the_site() -> None:
    """The GPU VMs live in AKS's node resource group, not the site's own: a resource-group budget would miss
    them; the subscription filtered to the site's tag does not."""
    plan = stack_plan("azure-prod")
    resource = only(plan, "azure-native:consumption:Budget")
    budget = resource.inputs
    assert budget["scope"].startswith("/subscriptions/") and "resourceGroups" not in budget["scope"]
    assert budget["filter"] == {"tags": {"name": "lepton:site", "operator": "In", "values": ["azure-weu"]}}
    pools = plan.of_type("azure-native:containerservice:AgentPool")
    assert pools and all(p.inputs["tags"]["lepton:site"] == "azure-weu" for p in pools)
    assert (budget["category"], budget["timeGrain"], budget["amount"]) == ("Cost", "Monthly", 250000)
    kinds = sorted((n["thresholdType"], n["threshold"]) for n in budget["notifications"].values())
    assert kinds == [("Actual", 80), ("Actual", 100), ("Forecasted", 100)]
    # Azure wants the first of a month; a later month's run must not move a budget's start.
    assert budget["timePeriod"]["startDate"].endswith("-01T00:00:00Z")
    assert resource.options["ignoreChanges"] == ["timePeriod.startDate"]


def test_an_azure_budget_starts_on_the_first_of_the_month_it_is_made() -> None:
    assert month_start(datetime.date(2026, 12, 17)) == "2026-12-01T00:00:00Z"
    assert month_start(datetime.date(2027, 1, 1)) == "2027-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("stack", "site", "reason"),
    [
        ("alicloud-prod", "ali-hz", "pulumi-alicloud has no budget resource"),
        ("existing-cluster", "onprem", "not billed through an account this platform manages"),
    ],
)
def test_a_budget_where_the_platform_cannot_make_one_is_refused_with_why(
    stack: str, site: str, reason: str
) -> None:
    config = copy.deepcopy(stack_config(stack))
    config["budgets"] = [{"site": site, "monthly_amount": 1000, "recipients": ["a@example.com"]}]
    [(path, message)] = spec_issues(config)
    assert path == "budgets[0].site" and reason in message


def test_a_budget_takes_at_most_five_alerts() -> None:
    config = copy.deepcopy(stack_config("aws-prod"))
    config["budgets"][0]["alert_thresholds_percent"] = [50, 60, 70, 80, 90]  # and the forecast alert
    assert spec_issues(config) == [
        ("alert_thresholds_percent", "6 alerts, but a budget takes at most 5 (forecast included)")
    ]


def test_the_policy_flags_a_site_without_a_budget_and_says_what_alibaba_cloud_offers() -> None:
    assert [v for v in evaluate(stack_plan("aws-prod")) if v.policy == POLICY] == []
    [flagged] = [v for v in evaluate(stack_plan("alicloud-prod")) if v.policy == POLICY]
    assert flagged.enforcement == "advisory"
    assert "site ali-hz (alicloud) has no monthly cost budget" in flagged.message
    assert "Budget Management" in flagged.message
    declared = PackConfig(external_budgets=["ali-hz"])
    assert [v for v in evaluate(stack_plan("alicloud-prod"), declared) if v.policy == POLICY] == []
