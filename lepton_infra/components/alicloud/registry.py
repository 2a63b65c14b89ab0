"""A Container Registry Enterprise Edition instance reached only from the site's VPC.

The AlicloudContainerRegistry component.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_alicloud as alicloud

from lepton_infra.components.args import refuse_args
from lepton_infra.validation import CR_EE_EDITIONS, at, cr_subscription_months, name_length, one_of


@dataclass(frozen=True)
class AlicloudContainerRegistryArgs:
    """The inputs of an AlicloudContainerRegistry."""

    instance_name: str
    """The instance's name, 3 to 30 lowercase letters, digits and hyphens: it also names the registry's
    domains (``<instance_name>-registry-vpc.<region>.cr.aliyuncs.com``)."""
    region: str
    """The region of the instance, e.g. ``cn-hangzhou``: the cluster's."""
    namespace: str
    """The one namespace the repositories live in; private, and no repository is created by a push."""
    repositories: Sequence[str]
    """Repositories to create in the namespace, e.g. ``["train", "serve"]``: private, with immutable tags."""
    vpc_id: pulumi.Input[str]
    """The VPC whose nodes pull images (an AlicloudNetwork's ``vpc_id``): the registry's only endpoint is in
    it."""
    vswitch_id: pulumi.Input[str]
    """The vSwitch the VPC endpoint takes its address from."""
    edition: str = "Standard"
    """The Enterprise Edition instance type: ``Basic``, ``Standard`` or ``Advanced`` (every type scans
    images)."""
    subscription_months: int = 12
    """The prepaid term in months: 1, 2, 3 or 6, or whole years up to 5 (12 ... 60). Enterprise Edition is
    sold by subscription only; it renews itself for the same term, so images never go read-only."""
    protect: bool = True
    """Protect the instance, namespace and repositories from deletion by Pulumi: deleting them deletes every
    image."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the instance."""

    def __post_init__(self) -> None:
        refuse_args(
            self,
            [
                *at("instance_name", name_length(self.instance_name, 3, 30)),
                *at("edition", one_of(self.edition, CR_EE_EDITIONS)),
                *at("subscription_months", cr_subscription_months(self.subscription_months)),
            ],
        )


class AlicloudContainerRegistry(pulumi.ComponentResource):
    """An Enterprise Edition instance with one private namespace (no repositories created on push),
    private repositories with immutable tags, a scan rule that scans every pushed image for
    vulnerabilities, and a VPC endpoint in the site's VPC. Its internet endpoint stays disabled
    (a new instance has none until one is enabled), so images are pulled over the VPC only.
    """

    instance_id: pulumi.Output[str]
    """ID of the Enterprise Edition instance: an AlicloudWorkloadRole's ``registry_instance_id``."""
    host: pulumi.Output[str]
    """The VPC domain nodes pull from: ``<instance_name>-registry-vpc.<region>.cr.aliyuncs.com``. Images are
    ``<host>/<namespace>/<repository>``."""
    repository_names: list[pulumi.Output[str]]
    """The repositories' names, in the order of ``repositories``."""

    def __init__(
        self, name: str, args: AlicloudContainerRegistryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("lepton:alicloud:ContainerRegistry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protect)
        instance = alicloud.cr.RegistryEnterpriseInstance(
            f"{name}-instance",
            alicloud.cr.RegistryEnterpriseInstanceArgs(
                instance_name=args.instance_name,
                instance_type=args.edition,
                payment_type="Subscription",
                period=args.subscription_months,
                renewal_status="AutoRenewal",
                renew_period=args.subscription_months,
                image_scanner="ACR",
                default_oss_bucket="true",
                tags=dict(args.tags),
            ),
            opts=stateful,
        )
        namespace = alicloud.cs.RegistryEnterpriseNamespace(
            f"{name}-namespace",
            alicloud.cs.RegistryEnterpriseNamespaceArgs(
                instance_id=instance.id, name=args.namespace, auto_create=False, default_visibility="PRIVATE"
            ),
            opts=stateful,
        )
        repositories = [
            alicloud.cs.RegistryEnterpriseRepo(
                f"{name}-{repo}",
                alicloud.cs.RegistryEnterpriseRepoArgs(
                    instance_id=instance.id,
                    namespace=namespace.name,
                    name=repo,
                    repo_type="PRIVATE",
                    summary=f"lepton {repo} images",
                    tag_immutability=True,
                ),
                opts=stateful,
            )
            for repo in args.repositories
        ]
        alicloud.cr.ScanRule(
            f"{name}-scan",
            alicloud.cr.ScanRuleArgs(
                instance_id=instance.id,
                rule_name=f"{args.namespace}-on-push",
                scan_scope="NAMESPACE",
                namespaces=[namespace.name],
                trigger_type="AUTO",
                scan_type="VUL",
                repo_tag_filter_pattern=".*",
            ),
            opts=child,
        )
        alicloud.cr.VpcEndpointLinkedVpc(
            f"{name}-vpc-endpoint",
            alicloud.cr.VpcEndpointLinkedVpcArgs(
                instance_id=instance.id,
                vpc_id=args.vpc_id,
                vswitch_id=args.vswitch_id,
                module_name="Registry",
                # Nodes resolve the VPC domain through PrivateZone, with no DNS of our own to run.
                enable_create_dns_record_in_pvzt=True,
            ),
            opts=child,
        )
        self.instance_id = instance.id
        self.host = instance.instance_name.apply(lambda n: f"{n}-registry-vpc.{args.region}.cr.aliyuncs.com")
        self.repository_names = [r.name for r in repositories]
        self.register_outputs({"instance_id": self.instance_id, "host": self.host})
