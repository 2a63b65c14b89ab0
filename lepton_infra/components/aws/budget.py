"""A site's monthly cost budget in AWS Budgets, alerting by email on actual and forecast spend."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from lepton_infra.blueprint.budgets import SITE_TAG_KEY, SiteBudgetSpec


def site_cost_filter(site: str) -> aws.budgets.BudgetCostFilterArgs:
    """Costs of resources tagged with the site: `user:<key>$<value>`, the form AWS Budgets' TagKeyValue
    filter takes (aws budgets create-budget example). The tag must be activated as a cost allocation tag
    in the payer account's Billing console, or the budget sees nothing."""
    return aws.budgets.BudgetCostFilterArgs(name="TagKeyValue", values=[f"user:{SITE_TAG_KEY}${site}"])


@dataclass(frozen=True)
class AwsSiteBudgetArgs:
    """The inputs of an AwsSiteBudget."""

    site: str
    """The site's name: the budget counts the costs of resources tagged with it (``lepton:site``)."""
    budget: SiteBudgetSpec
    """The site's budget as the platform spec states it: monthly limit in USD, alert thresholds, emails."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the budget itself."""


class AwsSiteBudget(pulumi.ComponentResource):
    """An AWS Budgets COST budget, monthly in USD, over the site's tagged resources, with one email
    notification per actual-spend threshold and one on the month's forecast."""

    budget_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: AwsSiteBudgetArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("lepton:aws:SiteBudget", name, None, opts)
        spec = args.budget
        recipients = list(spec.recipients)
        alerts = [("ACTUAL", float(t)) for t in spec.alert_thresholds_percent]
        if spec.forecast_alert_percent is not None:
            alerts.append(("FORECASTED", float(spec.forecast_alert_percent)))
        budget = aws.budgets.Budget(
            f"{name}-budget",
            aws.budgets.BudgetArgs(
                name=f"{name}-monthly",
                budget_type="COST",
                time_unit="MONTHLY",
                limit_amount=f"{spec.monthly_amount:.2f}",
                limit_unit="USD",
                cost_filters=[site_cost_filter(args.site)],
                notifications=[
                    aws.budgets.BudgetNotificationArgs(
                        comparison_operator="GREATER_THAN",
                        notification_type=kind,
                        threshold=threshold,
                        threshold_type="PERCENTAGE",
                        subscriber_email_addresses=recipients,
                    )
                    for kind, threshold in alerts
                ],
                tags=dict(args.tags),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.budget_name = budget.name
        self.register_outputs({"budget_name": self.budget_name})
