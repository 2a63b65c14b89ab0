"""Monthly cost budgets per site, with alert thresholds and recipients, as the cloud's own budget resource.

AWS: an AWS Budgets cost budget filtered to the site's `lepton:site` cost allocation tag. Azure: a
consumption budget on the subscription filtered to the same tag. Alibaba Cloud offers Budget Management in
its Expenses and Costs console (cost budgets, monthly, with actual and forecast alerts by email), but
pulumi-alicloud (4.0) has no resource for it: such a site is refused here, and the policy
`governance-site-cost-budget` flags it until its budget is declared as made outside the stack.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Annotated

from pydantic import Field, StringConstraints, model_validator

from lepton_infra.blueprint.base import DnsLabel, SpecModel, rule_error

if TYPE_CHECKING:
    from lepton_infra.blueprint.platform import PlatformSpec

Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$", max_length=254)]
# AWS Budgets and Azure consumption budgets both take at most five notifications per budget; an AWS
# notification at most ten email subscribers (AWS::Budgets::Budget docs; azure-native consumption.Budget).
MAX_NOTIFICATIONS = 5
MAX_RECIPIENTS = 10
BUDGETED_CLOUDS = ("aws", "azure")
# The tag every cloud resource of a site carries (``PlatformSpec.site_tags``): budgets filter costs on it.
SITE_TAG_KEY = "lepton:site"


class SiteBudgetSpec(SpecModel):
    """A monthly cost budget of one site: alerts at percentages of the limit, actual and forecast."""

    site: DnsLabel = Field(description="Site whose costs (resources tagged lepton:site) the budget tracks.")
    monthly_amount: float = Field(
        gt=0,
        le=1e9,
        allow_inf_nan=False,
        description="Monthly limit in the account's billing currency (AWS Budgets: USD).",
    )
    alert_thresholds_percent: tuple[Annotated[int, Field(ge=1, le=1000)], ...] = Field(
        default=(80, 100),
        min_length=1,
        description="Alert when actual spend passes each of these percentages of the limit.",
    )
    forecast_alert_percent: int | None = Field(
        default=100,
        ge=1,
        le=1000,
        description="Alert when the month's forecast passes this percentage; unset: no forecast alert.",
    )
    recipients: tuple[Email, ...] = Field(
        min_length=1, max_length=MAX_RECIPIENTS, description="Email addresses every alert goes to."
    )

    @model_validator(mode="after")
    def _notifications_fit(self) -> SiteBudgetSpec:
        issues = []
        count = len(self.alert_thresholds_percent) + (self.forecast_alert_percent is not None)
        if count > MAX_NOTIFICATIONS:
            message = f"{count} alerts, but a budget takes at most {MAX_NOTIFICATIONS} (forecast included)"
            issues.append(("alert_thresholds_percent", message))
        if len(set(self.alert_thresholds_percent)) < len(self.alert_thresholds_percent):
            issues.append(("alert_thresholds_percent", "each threshold once"))
        if issues:
            raise rule_error(issues)
        return self


def budget_rules(spec: PlatformSpec) -> list[tuple[str, str]]:
    issues: list[tuple[str, str]] = []
    names = {s.name for s in spec.sites}
    for site_name, count in Counter(b.site for b in spec.budgets).items():
        if count > 1:
            issues.append(("budgets", f"site {site_name!r} has more than one budget"))
    for i, budget in enumerate(spec.budgets):
        path = f"budgets[{i}].site"
        if budget.site not in names:
            issues.append((path, f"no site named {budget.site!r}; sites: {', '.join(sorted(names))}"))
            continue
        cloud = spec.site(budget.site).cloud
        if cloud == "alicloud":
            issues.append(
                (
                    path,
                    "pulumi-alicloud has no budget resource: create the budget in Alibaba Cloud's Expenses "
                    "and "
                    "Costs console (Budget Management) and declare it to the policy pack (external_budgets)",
                )
            )
        elif cloud not in BUDGETED_CLOUDS:
            issues.append(
                (path, "an existing cluster is not billed through an account this platform manages")
            )
    return issues
