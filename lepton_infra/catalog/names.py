"""The length and character rules each cloud applies to the names a plan gives (or lets Pulumi give).

A name that breaks them is refused by the cloud's API at create time, minutes into a `pulumi up`. Where a
plan leaves the name to Pulumi, the physical name is the logical name plus Pulumi's auto-name suffix
(https://www.pulumi.com/docs/iac/concepts/resources/names/): a hyphen and 7 hex digits for the bridged
AWS and Alibaba providers, 8 hex digits for azure-native, and a hyphen and 8 characters for Kubernetes
objects (pulumi/pulumi-kubernetes provider/pkg/metadata/naming.go, ``AssignNameIfAutonamable``). The
name must fit with that suffix, which is what ``NameRule.auto_suffix`` adds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

AZURE_NAMES = "https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules"
K8S_NAMES = "https://kubernetes.io/docs/concepts/overview/working-with-objects/names/"


@dataclass(frozen=True)
class NameRule:
    """What one resource type's physical name must satisfy."""

    resource_type: str
    # The input holding the physical name (camelCase, as plans record it).
    prop: str
    min_length: int
    max_length: int
    # The whole name must match this; ``charset`` says it in words for the message.
    pattern: str
    charset: str
    # What Pulumi appends to the logical name when the plan sets no name (a sample of its shape).
    auto_suffix: str
    source: str
    # A prefix input the provider completes with its own unique suffix, and the longest prefix it takes.
    prefix_prop: str | None = None
    prefix_max_length: int | None = None

    def auto_name(self, logical_name: str) -> str:
        """The physical name Pulumi gives a resource of this type named ``logical_name`` (suffix sampled)."""
        return logical_name + self.auto_suffix

    def problems(self, name: str) -> list[str]:
        """What is wrong with ``name`` (empty when it is valid)."""
        found = []
        if not self.min_length <= len(name) <= self.max_length:
            found.append(
                f"{len(name)} characters, outside {self.min_length}-{self.max_length}"
                if len(name) < self.min_length
                else f"{len(name)} characters, more than the {self.max_length} allowed"
            )
        if not re.fullmatch(self.pattern, name):
            found.append(f"characters outside {self.charset}")
        return found


_BRIDGED = "-1a2b3c4"  # "-" + 7 hex digits (pulumi-terraform-bridge auto-naming)
_AZURE = "1a2b3c4d"  # 8 hex digits, no separator (azure-native auto-naming)
_K8S = "-a1b2c3d4"  # "-" + 8 characters of [a-z0-9]

NAME_RULES: tuple[NameRule, ...] = (
    NameRule(
        "aws:iam/role:Role",
        "name",
        1,
        64,
        r"[\w+=,.@-]+",
        "letters, digits and +=,.@_-",
        _BRIDGED,
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html",
        # terraform-provider-aws internal/service/iam/role.go: roleNamePrefixMaxLen = 64 - 26 (its suffix).
        prefix_prop="namePrefix",
        prefix_max_length=38,
    ),
    NameRule(
        "aws:eks/cluster:Cluster",
        "name",
        1,
        100,
        r"[0-9A-Za-z][A-Za-z0-9_-]*",
        "letters, digits, - and _, starting with a letter or digit",
        _BRIDGED,
        "https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateCluster.html",
    ),
    NameRule(
        "aws:eks/nodeGroup:NodeGroup",
        "nodeGroupName",
        1,
        63,
        r"[0-9A-Za-z][A-Za-z0-9_-]*",
        "letters, digits, - and _, starting with a letter or digit",
        _BRIDGED,
        "https://www.pulumi.com/registry/packages/aws/api-docs/eks/nodegroup/",
    ),
    NameRule(
        "aws:s3/bucket:Bucket",
        "bucket",
        3,
        63,
        r"[a-z0-9][a-z0-9.-]*[a-z0-9]",
        "lowercase letters, digits, . and -",
        _BRIDGED,
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html",
    ),
    NameRule(
        "azure-native:containerservice:ManagedCluster",
        "resourceName",
        1,
        63,
        r"[a-zA-Z0-9]([-_a-zA-Z0-9]*[a-zA-Z0-9])?",
        "letters, digits, - and _, starting and ending with a letter or digit",
        _AZURE,
        AZURE_NAMES,
    ),
    NameRule(
        "azure-native:containerservice:AgentPool",
        "agentPoolName",
        1,
        12,
        r"[a-z][a-z0-9]*",
        "lowercase letters and digits, starting with a letter",
        _AZURE,
        "https://learn.microsoft.com/azure/aks/create-node-pools",
    ),
    NameRule(
        "azure-native:containerregistry:Registry",
        "registryName",
        5,
        50,
        r"[a-zA-Z0-9]+",
        "letters and digits",
        _AZURE,
        AZURE_NAMES,
    ),
    NameRule(
        "azure-native:storage:StorageAccount",
        "accountName",
        3,
        24,
        r"[a-z0-9]+",
        "lowercase letters and digits",
        _AZURE,
        AZURE_NAMES,
    ),
    NameRule(
        "azure-native:keyvault:Vault",
        "vaultName",
        3,
        24,
        r"[a-zA-Z](?!.*--)[a-zA-Z0-9-]*[a-zA-Z0-9]",
        "letters, digits and single hyphens, starting with a letter",
        _AZURE,
        AZURE_NAMES,
    ),
    NameRule(
        "azure-native:managedidentity:UserAssignedIdentity",
        "resourceName",
        3,
        128,
        r"[a-zA-Z0-9][a-zA-Z0-9_-]*",
        "letters, digits, - and _, starting with a letter or digit",
        _AZURE,
        AZURE_NAMES,
    ),
    NameRule(
        "azure-native:resources:ResourceGroup",
        "resourceGroupName",
        1,
        90,
        r"[\w().-]*[\w()-]",
        "letters, digits, _ . ( ) and -, not ending with a period",
        _AZURE,
        AZURE_NAMES,
    ),
    NameRule(
        "alicloud:oss/bucket:Bucket",
        "bucket",
        3,
        63,
        r"[a-z0-9][a-z0-9-]*[a-z0-9]",
        "lowercase letters, digits and -, starting and ending with a letter or digit",
        _BRIDGED,
        "https://www.alibabacloud.com/help/en/oss/user-guide/bucket-naming-conventions",
    ),
    NameRule(
        "alicloud:cs/nodePool:NodePool",
        "nodePoolName",
        1,
        63,
        r"[a-zA-Z0-9][a-zA-Z0-9_-]*",
        "letters, digits, - and _, not starting with a hyphen",
        _BRIDGED,
        "https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/developer-reference/api-cs-2015-12-15-createclusternodepool",
    ),
    NameRule(
        "alicloud:cs/managedKubernetes:ManagedKubernetes",
        "name",
        1,
        63,
        r"[a-zA-Z0-9\u4e00-\u9fa5][a-zA-Z0-9_\u4e00-\u9fa5-]*",
        "letters, digits, Chinese characters, - and _, not starting with - or _",
        _BRIDGED,
        "https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/developer-reference/api-cs-2015-12-15-createcluster",
    ),
    NameRule(
        "alicloud:ram/role:Role",
        "roleName",
        1,
        64,
        r"[a-zA-Z0-9.-]+",
        "letters, digits, . and -",
        _BRIDGED,
        "https://www.alibabacloud.com/help/en/ram/developer-reference/api-ram-2015-05-01-createrole",
    ),
)
NAME_RULES_BY_TYPE: dict[str, NameRule] = {r.resource_type: r for r in NAME_RULES}

# Kubernetes object names: most kinds take a DNS-1123 subdomain (253); a Namespace a DNS-1123 label (63); a
# Service an RFC 1035 label (63, starting with a letter); a Job's name becomes a pod label value, so it
# must stay within 63 ("Even when the name is a DNS subdomain, the name must be no longer than 63
# characters", https://kubernetes.io/docs/concepts/workloads/controllers/job/#writing-a-job-spec).
_DNS_SUBDOMAIN = NameRule(
    "kubernetes:*",
    "metadata.name",
    1,
    253,
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
    "lowercase letters, digits, - and .",
    _K8S,
    K8S_NAMES,
)
_DNS_LABEL = NameRule(
    "kubernetes:*",
    "metadata.name",
    1,
    63,
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?",
    "lowercase letters, digits and -",
    _K8S,
    K8S_NAMES,
)
_RFC1035_LABEL = NameRule(
    "kubernetes:core/v1:Service",
    "metadata.name",
    1,
    63,
    r"[a-z]([-a-z0-9]*[a-z0-9])?",
    "lowercase letters, digits and -, starting with a letter",
    _K8S,
    K8S_NAMES,
)
# A CronJob's controller appends 11 characters to name its Jobs: "must be no longer than 52 characters"
# (https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#writing-a-cronjob-spec).
_CRONJOB = NameRule(
    "kubernetes:batch/v1:CronJob",
    "metadata.name",
    1,
    52,
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?",
    "lowercase letters, digits and -",
    _K8S,
    "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/",
)
_KUBERNETES_LABEL_NAMED = {
    "kubernetes:core/v1:Namespace": _DNS_LABEL,
    "kubernetes:core/v1:Service": _RFC1035_LABEL,
    "kubernetes:batch/v1:Job": _DNS_LABEL,
    "kubernetes:batch/v1:CronJob": _CRONJOB,
}


def name_rule(resource_type: str) -> NameRule | None:
    """The rule for a resource type's physical name; None where the catalog records none."""
    if resource_type.startswith("kubernetes:") and not resource_type.startswith("kubernetes:helm.sh/"):
        return _KUBERNETES_LABEL_NAMED.get(resource_type, _DNS_SUBDOMAIN)
    return NAME_RULES_BY_TYPE.get(resource_type)
