"""A bounded wait between Azure role assignments and the first resource that uses them.

ARM accepts a role assignment before Entra ID and the resource providers see it: "When you assign roles or
remove role assignments, it can take up to 10 minutes for changes to take effect"
(https://learn.microsoft.com/azure/role-based-access-control/troubleshooting). A registry, storage account,
disk encryption set or AKS cluster touches its customer-managed key while it is created, so one created
the moment its grant returns fails with 403 ("Failed to access KeyId",
https://learn.microsoft.com/azure/container-registry/tutorial-troubleshoot-customer-managed-keys; Azure/
ARO-HCP#834 added the same ordering for AKS). Microsoft names no shorter figure and no retry a deployment
tool could hook, so the resource waits out the documented bound once, when its grants are created.

The wait is the community ``time`` provider's ``Sleep`` (pulumiverse-time; Terraform's ``time_sleep``): a
declared resource, visible in the plan, that sleeps only when it is created or its triggers (the grants'
IDs) change, and keeps no code in the state. A Python dynamic provider would do the same but pickles its
code into the state and runs only under a Python host.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumiverse_time

# The RBAC troubleshooting page's "up to 10 minutes". A site can lower it (AzureSiteSpec).
ROLE_PROPAGATION_SECONDS = 600


def after_role_assignments(
    name: str, assignments: Sequence[pulumi.CustomResource], seconds: int, parent: pulumi.Resource
) -> pulumi.Resource:
    """A wait of ``seconds`` once every assignment exists, run again only if one of them is replaced."""
    return pulumiverse_time.Sleep(
        name,
        pulumiverse_time.SleepArgs(
            create_duration=f"{seconds}s",
            triggers={f"grant-{i}": assignment.id for i, assignment in enumerate(assignments)},
        ),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(assignments)),
    )
