"""EKS managed add-ons: what an EKS cluster without self-managed add-ons needs, configured and in order.

The cluster is created with ``bootstrapSelfManagedAddons: false`` (``cluster.py``), so these are its only
networking, proxy, DNS and metrics pieces:

- before any node: ``vpc-cni`` with NetworkPolicy enforcement on (the VPC CNI enforces NetworkPolicy "only
  when its add-on sets enableNetworkPolicy", https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy-configure.html;
  without it every default-deny policy of the platform does nothing) and ``kube-proxy``: a node is not
  Ready without its CNI;
- after the system pool: ``coredns`` (a Deployment: created before any node it waits DEGRADED until EKS gives
  up, pulumi/pulumi-eks#1819, terraform-aws-eks#3001) and ``metrics-server``, the EKS community add-on that
  serves the HPA's resource metrics (EKS installs none; https://docs.aws.amazon.com/eks/latest/userguide/community-addons.html).

Each add-on runs the version EKS names as the default for the cluster's Kubernetes version, so a version bump
of the cluster upgrades them too, after the control plane (they depend on it). Conflicts resolve to our
configuration (``OVERWRITE``): network policy must stay on whatever someone edits by hand.
No ``aws-ebs-csi-driver``: nothing the platform creates needs a block volume, and the checkpoint claims are
ReadWriteMany, which EBS cannot serve (kubernetes-sigs/aws-ebs-csi-driver#2237).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

VPC_CNI = "vpc-cni"
KUBE_PROXY = "kube-proxy"
COREDNS = "coredns"
METRICS_SERVER = "metrics-server"

# Add-ons every node needs to become Ready: created before the node groups.
BEFORE_NODES: Mapping[str, Mapping[str, Any]] = {
    # The add-on's schema wants the string "true" (aws eks describe-addon-configuration --addon-name vpc-cni).
    VPC_CNI: {"enableNetworkPolicy": "true"},
    KUBE_PROXY: {},
}
# Add-ons whose pods need a node to run on: created once the system pool exists.
AFTER_SYSTEM_POOL: Mapping[str, Mapping[str, Any]] = {COREDNS: {}, METRICS_SERVER: {}}


def eks_addons(
    name: str,
    cluster_name: pulumi.Input[str],
    kubernetes_version: str,
    addons: Mapping[str, Mapping[str, Any]],
    opts: pulumi.ResourceOptions,
    *,
    depends_on: Sequence[pulumi.Resource] = (),
    tags: Mapping[str, str] | None = None,
) -> dict[str, aws.eks.Addon]:
    """One managed add-on per entry of ``addons`` (name → configuration values), each after ``depends_on``;
    ``opts`` gives their parent and provider."""
    invoke = pulumi.InvokeOutputOptions(parent=opts.parent, provider=opts.provider)
    after = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(depends_on)))
    created = {}
    for addon, configuration in addons.items():
        version = aws.eks.get_addon_version_output(
            addon_name=addon,
            kubernetes_version=kubernetes_version,
            most_recent=False,  # the default version EKS names for this Kubernetes version
            opts=invoke,
        ).version
        created[addon] = aws.eks.Addon(
            f"{name}-{addon}",
            aws.eks.AddonArgs(
                cluster_name=cluster_name,
                addon_name=addon,
                addon_version=version,
                configuration_values=json.dumps(configuration) if configuration else None,
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="OVERWRITE",
                tags=dict(tags or {}),
            ),
            opts=after,
        )
    return created
