"""The account's service-linked roles a site relies on: AutoScaling (managed node groups, whose encrypted
volumes the site key's policy lets it use) and EC2 Spot (Karpenter's spot launches).

Each exists once per account, made by AWS the first time the service is used, so a stack cannot simply own
it: creating one that exists fails ("Service role name AWSServiceRoleForAutoScaling has been taken in this
account, please try a different suffix", DataDog/pathfinding-labs#23), while a key policy naming one that
does not exist yet fails ("MalformedPolicyDocumentException: Policy contains a statement with one or more
invalid principals", GoogleCloudPlatform/anthos-samples#357, particuleio/teks#92), after pulumi-aws has
retried for two minutes. So the site creates them only when asked (``create_service_linked_roles``, for an
account that never had them; the key then waits for them), and otherwise the README's one-time step, which
succeeds in both kinds of account, makes sure they exist. A created role is retained when the stack goes:
other Auto Scaling groups of the account use it too.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

AUTOSCALING = "autoscaling.amazonaws.com"
SPOT = "spot.amazonaws.com"


def service_linked_roles(
    name: str, services: Sequence[str], opts: pulumi.ResourceOptions
) -> list[aws.iam.ServiceLinkedRole]:
    """One service-linked role per service (e.g. ``autoscaling.amazonaws.com``), kept on destroy."""
    return [
        aws.iam.ServiceLinkedRole(
            f"{name}-{service.split('.')[0]}",
            aws.iam.ServiceLinkedRoleArgs(aws_service_name=service),
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(retain_on_delete=True)),
        )
        for service in services
    ]
