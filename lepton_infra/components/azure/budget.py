"""A site's monthly cost budget as an Azure consumption budget, alerting by email on actual and forecast."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import consumption

from lepton_infra.blueprint.budgets import SITE_TAG_KEY, SiteBudgetSpec


def month_start(today: datetime.date) -> str:
    """The budget's start: the first of the current month (Azure requires the first of a month, and no
    later than twelve months ahead)."""
    return f"{today.year:04d}-{today.month:02d}-01T00:00:00Z"


@dataclass(frozen=True)
class AzureSiteBudgetArgs:
    """The inputs of an AzureSiteBudget."""

    site: str
    """The site's name: the budget counts the costs of resources tagged with it (``lepton:site``)."""
    budget: SiteBudgetSpec
    """The site's budget as the platform spec states it: monthly limit in USD, alert thresholds, emails."""
    subscription_id: pulumi.Input[str]
    """The subscription the budget is made on (its scope)."""
    today: datetime.date | None = None
    """The date the budget's first month is taken from; None (the default): the day of the deployment.
    Tests give one."""


class AzureSiteBudget(pulumi.ComponentResource):
    """A consumption budget on the subscription, filtered to the site's `lepton:site` tag (the AKS node
    resource group holds the GPU VMs, so a resource-group budget would miss them), monthly, with one email
    notification per actual-cost threshold and one on the forecast. Its start date is set once: later
    updates leave it (Azure accepts no start date before the current month's)."""

    def __init__(
        self, name: str, args: AzureSiteBudgetArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("lepton:azure:SiteBudget", name, None, opts)
        spec = args.budget
        alerts = [(f"actual-{t}", consumption.ThresholdType.ACTUAL, t) for t in spec.alert_thresholds_percent]
        if spec.forecast_alert_percent is not None:
            alerts.append(
                (
                    f"forecast-{spec.forecast_alert_percent}",
                    consumption.ThresholdType.FORECASTED,
                    spec.forecast_alert_percent,
                )
            )
        consumption.Budget(
            f"{name}-budget",
            consumption.BudgetArgs(
                budget_name=f"{name}-monthly",
                scope=pulumi.Output.concat("/subscriptions/", args.subscription_id),
                amount=spec.monthly_amount,
                category=consumption.CategoryType.COST,
                time_grain=consumption.TimeGrainType.MONTHLY,
                time_period=consumption.BudgetTimePeriodArgs(
                    start_date=month_start(args.today or datetime.date.today())
                ),
                filter=consumption.BudgetFilterArgs(
                    tags=consumption.BudgetComparisonExpressionArgs(
                        name=SITE_TAG_KEY, operator=consumption.BudgetOperatorType.IN_, values=[args.site]
                    )
                ),
                notifications={
                    key: consumption.NotificationArgs(
                        enabled=True,
                        operator=consumption.OperatorType.GREATER_THAN,
                        threshold=float(threshold),
                        threshold_type=kind,
                        contact_emails=list(spec.recipients),
                    )
                    for key, kind, threshold in alerts
                },
            ),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["timePeriod.startDate"]),
        )
        self.register_outputs({})
