"""Every policy of the pack, in one list, for the pack's ``__main__``, the offline runner and the CLI."""

from __future__ import annotations

from functools import cache

from lepton_infra.policies import governance
from lepton_infra.policies.alicloud import ack, cr, oss, ram
from lepton_infra.policies.alicloud import kms as ali_kms
from lepton_infra.policies.aws import ecr, eks, iam, kms, nodes, s3
from lepton_infra.policies.azure import acr, aks, identity, keyvault, storage
from lepton_infra.policies.kubernetes import (
    api_versions,
    availability,
    containers,
    gpu,
    pod_security,
    rbac,
    registries,
    workload_identity,
)
from lepton_infra.policies.rule import PolicyRule, collect

PACK_NAME = "lepton-security"
_MODULES = (
    eks, nodes, kms, ecr, s3, iam,
    aks, keyvault, acr, storage, identity,
    ack, ali_kms, cr, oss, ram,
    pod_security, containers, registries, workload_identity, rbac, api_versions, availability, gpu,
    governance,
)  # fmt: skip


@cache
def all_policies() -> tuple[PolicyRule, ...]:
    return collect(_MODULES)


def by_name() -> dict[str, PolicyRule]:
    return {r.name: r for r in all_policies()}
