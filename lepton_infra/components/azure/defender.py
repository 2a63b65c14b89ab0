"""Microsoft Defender for Containers on a subscription, scanning the images of its registries."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import security

from lepton_infra.components.args import refuse_args

# The plan's name in Microsoft.Security/pricings: one per subscription.
PLAN = "Containers"
# Registry images are assessed "when Registry access is enabled" (this extension, "vulnerability management
# for images stored in your container registries"); the agentless inventory of the clusters ("K8S API
# access") ties findings to what runs. Neither puts a pod on a cluster
# (https://docs.azure.cn/en-us/defender-for-cloud/defender-for-container-registries-usage).
REGISTRY_SCANNING = "ContainerRegistriesVulnerabilityAssessments"
CLUSTER_DISCOVERY = "AgentlessDiscoveryForKubernetes"


@dataclass(frozen=True)
class AzureDefenderForContainersArgs:
    """The inputs of an AzureDefenderForContainers."""

    subscription_id: pulumi.Input[str]
    """The subscription whose plan is turned on (its scope): every registry and cluster in it is covered."""

    def __post_init__(self) -> None:
        refuse_args(self)


class AzureDefenderForContainers(pulumi.ComponentResource):
    """Defender for Containers on the subscription (`security.Pricing` ``Containers``, tier Standard) with
    registry image scanning and agentless cluster discovery enabled.

    The plan belongs to the whole subscription and costs money per vCore of its clusters' nodes. Defaults
    that protect the user:

    - **Retained on delete.** Azure has no delete for a subscription's plan ("Delete operation is supported
      only for single resources scope (not subscriptions)", Azure/terraform-provider-azapi#818); providers
      that fake one reset the plan to Free for everyone (hashicorp/terraform-provider-azurerm#21437). So
      ``pulumi destroy`` of one site forgets the plan and leaves the subscription's security as it was.
    - **Only the extensions it needs, enabled.** Extensions it does not name (the Defender sensor, a
      DaemonSet on every node) keep whatever the subscription's owner chose: nothing is turned off.
    - **No `enforce`.** Whether child scopes may override the plan is the subscription owner's decision.

    A subscription whose plan a central team already manages should not use this component; where the plan
    exists but no stack owns it, import it first (README, "Defender for Containers").
    """

    pricing_id: pulumi.Output[str]
    """Resource ID of the subscription's plan."""

    def __init__(
        self, name: str, args: AzureDefenderForContainersArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("lepton:azure:DefenderForContainers", name, None, opts)
        pricing = security.Pricing(
            f"{name}-plan",
            security.PricingArgs(
                pricing_name=PLAN,
                pricing_tier=security.PricingTier.STANDARD,
                scope_id=pulumi.Output.concat("/subscriptions/", args.subscription_id),
                extensions=[
                    security.ExtensionArgs(name=extension, is_enabled=security.IsEnabled.TRUE)
                    for extension in (REGISTRY_SCANNING, CLUSTER_DISCOVERY)
                ],
            ),
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )
        self.pricing_id = pricing.id
        self.register_outputs({"pricing_id": self.pricing_id})
