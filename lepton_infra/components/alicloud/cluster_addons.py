"""What an ACK cluster needs beside its node pools: the autoscaler's cluster-wide configuration, and the
managed credential helper that lets the kubelet pull from the site's Container Registry instance."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pulumi
import pulumi_alicloud as alicloud

# ACK's managed edition of aliyun-acr-credential-helper (install only one edition). It needs the ACK role
# AliyunCSManagedAcrRole authorized once per account (README, "Deploying to Alibaba Cloud").
MANAGED_ACR_CREDENTIAL_HELPER = "managed-aliyun-acr-credential-helper"
# Renew the pull credential this long before it expires (the component's documented default).
CREDENTIAL_RENEWAL = "15m"


def acr_credential_helper(
    name: str,
    *,
    cluster_id: pulumi.Input[str],
    instance_id: pulumi.Input[str],
    registry_host: pulumi.Input[str],
    region: str,
    namespaces: Sequence[str],
    opts: pulumi.ResourceOptions,
) -> alicloud.cs.KubernetesAddon:
    """The managed credential helper for the site's Enterprise Edition instance.

    A private instance refuses anonymous pulls, and the kubelet has no RAM identity of its own to pull with
    (RRSA roles are for pods' API calls). The helper fetches temporary pull credentials, stores them in a
    Secret and attaches it to the service accounts of ``namespaces``, renewing it before it expires
    (https://www.alibabacloud.com/help/en/acr/user-guide/non-secret-pulling-container-image; configuration
    keys as that page's parameter table names them). ``domains`` names the VPC domain the pods' images use.
    """
    config = pulumi.Output.all(instance_id, registry_host).apply(
        lambda parts: json.dumps(
            {
                "AcrInstanceInfo": [{"instanceId": parts[0], "regionId": region, "domains": parts[1]}],
                "watchNamespace": ",".join(namespaces),
                "serviceAccount": "*",
                "expiringThreshold": CREDENTIAL_RENEWAL,
            }
        )
    )
    return alicloud.cs.KubernetesAddon(
        name,
        alicloud.cs.KubernetesAddonInitArgs(
            cluster_id=cluster_id, name=MANAGED_ACR_CREDENTIAL_HELPER, config=config
        ),
        opts=opts,
    )


def node_autoscaling(
    name: str, cluster_id: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> pulumi.Resource:
    """The cluster's node autoscaling configuration, which a pool's ``scaling_config`` alone does not give.

    ACK's node auto scaling is switched on per cluster, then per pool ("Enable node auto scaling"); this is
    the cluster half (the pulumi-alicloud resource ``cs.AutoscalingConfig``), with the cluster autoscaler
    (which, unlike instant scaling, also works with spot pools), scale-up from zero nodes, and the
    least-waste expander. The account must have Auto Scaling activated and the roles
    AliyunOOSLifecycleHook4CSRole and AliyunCSManagedAutoScalerRole authorized
    (https://www.alibabacloud.com/help/doc-detail/197717.htm; README).
    """
    return alicloud.cs.AutoscalingConfig(
        name,
        alicloud.cs.AutoscalingConfigArgs(
            cluster_id=cluster_id,
            scaler_type="cluster-autoscaler",
            expander="least-waste",
            scale_up_from_zero=True,
            scale_down_enabled=True,
        ),
        opts=opts,
    )
