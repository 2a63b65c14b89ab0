"""Container Insights: a Log Analytics workspace with retention, and the data collection rule AKS sends to."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
from pulumi_azure_native import monitor, operationalinsights

CONTAINER_INSIGHTS_STREAM = "Microsoft-ContainerInsights-Group-Default"
# The association name AKS's monitoring add-on looks for.
CONTAINER_INSIGHTS_ASSOCIATION = "ContainerInsightsExtension"


def log_workspace(
    name: str,
    *,
    resource_group_name: pulumi.Input[str],
    location: str,
    retention_days: int,
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> operationalinsights.Workspace:
    """A workspace that keeps data ``retention_days`` and accepts only Entra ID-authenticated ingestion."""
    return operationalinsights.Workspace(
        name,
        operationalinsights.WorkspaceArgs(
            resource_group_name=resource_group_name,
            location=location,
            sku=operationalinsights.WorkspaceSkuArgs(
                name=operationalinsights.WorkspaceSkuNameEnum.PER_GB2018
            ),
            retention_in_days=retention_days,
            features=operationalinsights.WorkspaceFeaturesArgs(
                disable_local_auth=True, enable_log_access_using_only_resource_permissions=True
            ),
            tags=dict(tags),
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def container_insights(
    name: str,
    *,
    resource_group_name: pulumi.Input[str],
    location: str,
    workspace_id: pulumi.Input[str],
    cluster_id: pulumi.Input[str],
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> monitor.DataCollectionRuleAssociation:
    """The rule the add-on's agents (authenticating with Entra ID) send container logs and metrics through;
    what `az aks enable-addons -a monitoring` creates, made explicit."""
    rule = monitor.DataCollectionRule(
        f"{name}-dcr",
        monitor.DataCollectionRuleArgs(
            resource_group_name=resource_group_name,
            location=location,
            kind=monitor.KnownDataCollectionRuleResourceKind.LINUX,
            data_sources=monitor.DataCollectionRuleDataSourcesArgs(
                extensions=[
                    monitor.ExtensionDataSourceArgs(
                        name="ContainerInsightsExtension",
                        extension_name="ContainerInsights",
                        streams=[CONTAINER_INSIGHTS_STREAM],
                    )
                ]
            ),
            destinations=monitor.DataCollectionRuleDestinationsArgs(
                log_analytics=[
                    monitor.LogAnalyticsDestinationArgs(name="workspace", workspace_resource_id=workspace_id)
                ]
            ),
            data_flows=[
                monitor.DataFlowArgs(streams=[CONTAINER_INSIGHTS_STREAM], destinations=["workspace"])
            ],
            tags=dict(tags),
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return monitor.DataCollectionRuleAssociation(
        f"{name}-dcra",
        monitor.DataCollectionRuleAssociationArgs(
            resource_uri=cluster_id,
            association_name=CONTAINER_INSIGHTS_ASSOCIATION,
            data_collection_rule_id=rule.id,
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )


# Control-plane log categories AKS exports; kube-audit-admin is the audit log without gets and lists
# (the bulk of the volume), the counterpart of EKS's audit and authenticator logs together with guard.
CONTROL_PLANE_LOG_CATEGORIES = (
    "kube-apiserver",
    "kube-audit-admin",
    "kube-controller-manager",
    "kube-scheduler",
    "cluster-autoscaler",
    "guard",
)


def control_plane_logs(
    name: str, *, workspace_id: pulumi.Input[str], cluster_id: pulumi.Input[str], parent: pulumi.Resource
) -> monitor.DiagnosticSetting:
    """The cluster's control-plane and audit logs into the workspace, in resource-specific tables."""
    return monitor.DiagnosticSetting(
        name,
        monitor.DiagnosticSettingArgs(
            resource_uri=cluster_id,
            workspace_id=workspace_id,
            log_analytics_destination_type="Dedicated",
            logs=[
                monitor.DiagnosticsLogSettingsArgs(category=category, enabled=True)
                for category in CONTROL_PLANE_LOG_CATEGORIES
            ],
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
