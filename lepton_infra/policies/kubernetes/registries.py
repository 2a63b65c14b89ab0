"""Images come from this platform's registries: the ones the plan creates, or the ones the config names.

"Allowed" means this platform's registries, never a whole cloud's: ``*.azurecr.io`` admits every
tenant's registry, so a cloud registry is allowed only when the plan shows it is ours:

- ECR: each ``aws:ecr/repository:Repository`` in its provider's region, in the account that the plan's
  own ARNs of that repository name (IAM documents granting pulls on it), or the provider's
  ``allowedAccountIds``;
- ACR: each ``azure-native:containerregistry:Registry`` by its ``registryName``
  (``<name>.azurecr.io``; ``.cn`` / ``.us`` in the China and US Government clouds);
- Alibaba CR EE: each ``alicloud:cr/registryEnterpriseInstance`` by its ``instanceName`` in its region
  (``<name>-registry[-vpc].<region>.cr.aliyuncs.com``).

Hosts the pack config lists (``allowedRegistries``; NVIDIA's and the Kubernetes project's registries by
default) are allowed as written. A cloud registry host the plan cannot place (an account unknown in a
preview, a registry made outside the stack) is "cannot decide": an advisory, never a pass.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from lepton_infra.policies.kubernetes.containers import image_of
from lepton_infra.policies.kubernetes.pods import may_carry_pods, pods
from lepton_infra.policies.rule import Subject, cis_aks, cis_eks, subject_of, view_policy
from lepton_infra.policies.settings import PolicySettings
from lepton_infra.policies.values import as_list, is_unknown, read
from lepton_infra.policies.view import Finding, Stack

ECR_REPOSITORY = "aws:ecr/repository:Repository"
ACR_REGISTRY = "azure-native:containerregistry:Registry"
CR_INSTANCE = "alicloud:cr/registryEnterpriseInstance:RegistryEnterpriseInstance"
IAM_DOCUMENT_TYPES = (
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/role:Role",
)
# Hosts of the clouds' multi-tenant registries: one tenant's registry is not another's.
_ECR_HOST = re.compile(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")
_ACR_HOST = re.compile(r"^([a-z0-9]+)\.azurecr\.(io|cn|us)$")
_CR_HOST = re.compile(r"^(.+)-registry(-vpc)?\.([a-z0-9-]+)\.cr\.aliyuncs\.com$")
_ECR_ARN = re.compile(r"arn:aws(?:-cn|-us-gov)?:ecr:([a-z0-9-]+):(\d{12}):repository/")
_ACR_SUFFIX = {"public": "io", "china": "cn", "usgovernment": "us"}


def registry_of(image: str) -> str:
    """The registry host of an image reference, by Docker's rule (docker.io when none is named)."""
    first = image.split("/", 1)[0]
    if "/" in image and ("." in first or ":" in first or first == "localhost"):
        return first.split(":", 1)[0].lower()
    return "docker.io"


@dataclass
class PlatformRegistries:
    """The registry hosts this plan's platform owns, and the clouds where it owns one it cannot name."""

    hosts: set[str] = field(default_factory=set)
    # Regions where the plan has ECR repositories whose account it cannot tell.
    ecr_regions_unplaced: set[str] = field(default_factory=set)
    acr_unnamed: bool = False
    cr_unnamed: bool = False


def _provider(stack: Stack, resource: Any) -> Mapping[str, Any]:
    provider = stack.provider_of(resource)
    return provider.props if provider is not None else {}


def _ecr_accounts(stack: Stack) -> dict[str, set[str]]:
    """Region -> accounts that the plan's IAM documents name ECR repositories in."""
    found: dict[str, set[str]] = {}
    for resource in stack.of_type(*IAM_DOCUMENT_TYPES):
        inline = as_list(read(resource.props, "inlinePolicies"))
        documents = [read(resource.props, "policy"), *(read(p, "policy") for p in inline)]
        for document in documents:
            text = document if isinstance(document, str) else json.dumps(document) if document else ""
            for region, account in _ECR_ARN.findall(text):
                found.setdefault(region, set()).add(account)
    return found


def _accounts(provider: Mapping[str, Any]) -> set[str]:
    allowed = read(provider, "allowedAccountIds")
    if isinstance(allowed, str):  # provider state keeps structured config as JSON text
        try:
            allowed = json.loads(allowed)
        except ValueError:
            allowed = [allowed]
    return {str(a) for a in as_list(allowed) if not is_unknown(a)}


def platform_registries(stack: Stack) -> PlatformRegistries:
    found = PlatformRegistries()
    repositories = stack.of_type(ECR_REPOSITORY)
    accounts_by_region = _ecr_accounts(stack) if repositories else {}
    for repository in repositories:
        provider = _provider(stack, repository)
        region = read(provider, "region")
        if not isinstance(region, str) or is_unknown(region):
            found.ecr_regions_unplaced.add("*")
            continue
        accounts = accounts_by_region.get(region, set()) | _accounts(provider)
        suffix = ".amazonaws.com.cn" if region.startswith("cn-") else ".amazonaws.com"
        found.hosts.update(f"{a}.dkr.ecr.{region}{suffix}" for a in accounts)
        if not accounts:
            found.ecr_regions_unplaced.add(region)
    for registry in stack.of_type(ACR_REGISTRY):
        name = read(registry.props, "registryName")
        if isinstance(name, str) and not is_unknown(name):
            environment = str(read(_provider(stack, registry), "environment") or "public").lower()
            found.hosts.add(f"{name.lower()}.azurecr.{_ACR_SUFFIX.get(environment, 'io')}")
        else:
            found.acr_unnamed = True
    for instance in stack.of_type(CR_INSTANCE):
        name = read(instance.props, "instanceName")
        region = read(_provider(stack, instance), "region")
        if isinstance(name, str) and isinstance(region, str) and not (is_unknown(name) or is_unknown(region)):
            found.hosts.update(f"{name}-registry{vpc}.{region}.cr.aliyuncs.com" for vpc in ("", "-vpc"))
        else:
            found.cr_unnamed = True
    return found


def _decide(host: str, known: PlatformRegistries, patterns: tuple[str, ...]) -> bool | None:
    """True: the platform's; False: not; None: the plan cannot tell (a cloud registry of unknown owner)."""
    if host in known.hosts or any(fnmatch.fnmatchcase(host, p) for p in patterns):
        return True
    if (ecr := _ECR_HOST.match(host)) is not None:
        unplaced = known.ecr_regions_unplaced & {ecr.group(2), "*"}
        return None if unplaced or not _owns(known, patterns, _ECR_HOST, ".dkr.ecr.") else False
    if _ACR_HOST.match(host) is not None:
        return None if known.acr_unnamed or not _owns(known, patterns, _ACR_HOST, ".azurecr.") else False
    if _CR_HOST.match(host) is not None:
        return None if known.cr_unnamed or not _owns(known, patterns, _CR_HOST, ".cr.aliyuncs.com") else False
    return False


def _owns(known: PlatformRegistries, patterns: tuple[str, ...], host: re.Pattern[str], marker: str) -> bool:
    """Whether the plan or the config names this platform's registries of this cloud: then another
    tenant's is not ours; else one the pods pull from may be made outside the stack (cannot decide)."""
    return any(host.match(h) for h in known.hosts) or any(marker in p for p in patterns)


def _images(subject: Subject) -> Iterator[tuple[str, Any]]:
    for pod in pods(subject):
        if pod.unknown:
            yield pod.label("the pod spec"), None
            continue
        for label, container in pod.containers():
            image = image_of(container)
            if image is not None:
                yield label, image


@view_policy(
    name="kubernetes-pod-image-allowed-registry",
    severity="high",
    description=(
        "Images must come from this platform's own registries (the ones the plan creates) or a "
        "registry the pack config allows; a cloud's registry domain alone is not enough."
    ),
    remediation=(
        "Mirror the image into the platform's registry, or list the registry host in the pack config "
        "`allowed_registries` (e.g. `123456789012.dkr.ecr.us-west-2.amazonaws.com`)."
    ),
    controls=(*cis_eks("5.1.4"), *cis_aks("5.1.4")),
    config=("allowedRegistries",),
)
def image_allowed_registry(stack: Stack, settings: PolicySettings) -> Iterator[Finding]:
    known = stack.memo("platform-registries", platform_registries)
    patterns = settings.allowed_registries
    for resource in stack.resources:
        if not resource.custom or not may_carry_pods(resource.type):
            continue
        for label, image in _images(subject_of(stack, resource)):
            if image is None or is_unknown(image):
                unknown = f"{resource.name}: {label}: image can't be known during preview"
                yield Finding(unknown, resource.urn, True)
                continue
            host = registry_of(str(image))
            verdict = _decide(host, known, patterns)
            if verdict is None:
                yield Finding(
                    f"{resource.name}: {label}: cannot decide whether {host} is this platform's registry"
                    " (the plan does not show its owner); list it in allowed_registries",
                    resource.urn,
                    True,
                )
            elif not verdict:
                owned = ", ".join(sorted(known.hosts)) or "none in the plan"
                yield Finding(
                    f"{label} pulls from {host}, not this platform's registries ({owned}) nor an "
                    f"allowed one ({', '.join(patterns) or 'none configured'})",
                    resource.urn,
                )


POLICIES = (image_allowed_registry,)
