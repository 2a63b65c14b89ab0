"""HTTPS from a runner's network to a private EKS API endpoint: one ingress rule per source range."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_aws as aws

HTTPS = 443


def private_api_access(
    name: str,
    *,
    security_group_id: pulumi.Input[str],
    cidrs: Sequence[str],
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> list[aws.vpc.SecurityGroupIngressRule]:
    """Rules on the cluster security group admitting ``cidrs`` to the API endpoint on 443, and nothing else.

    The private endpoint answers only what the control plane's security group admits: "you must ensure
    that your Amazon EKS control plane security group contains rules to allow ingress traffic on port 443
    from your connected network" (EKS user guide, cluster-endpoint). EKS also puts that group on managed
    nodes, so the rule admits the same ranges to the nodes' port 443, where nothing of ours listens.
    """
    return [
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-api-{index}",
            aws.vpc.SecurityGroupIngressRuleArgs(
                security_group_id=security_group_id,
                ip_protocol="tcp",
                from_port=HTTPS,
                to_port=HTTPS,
                cidr_ipv4=cidr,
                description="runner of the Kubernetes layer reaches the private API endpoint",
                tags=dict(tags),
            ),
            opts=opts,
        )
        for index, cidr in enumerate(cidrs)
    ]
