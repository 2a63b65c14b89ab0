"""Every policy of the pack, in one list, for the pack's ``__main__``, the offline runner and the CLI."""

from __future__ import annotations

from functools import cache

from lepton_infra.policies import governance
from lepton_infra.policies.alicloud import ack, cr, oss, ram
from lepton_infra.policies.alicloud import kms as ali_kms
from lepton_infra.policies.aws import ecr, eks, iam, kms, nodes, s3
from lepton_infra.policies.azure import acr, aks, identity, keyvault, storage
from lepton_infra.policies.kubernetes import availability, containers, gpu, pod_security
from lepton_infra.policies.spec import PolicySpec

_MODULES = (
    eks, nodes, kms, ecr, s3, iam,
    aks, keyvault, acr, storage, identity,
    ack, ali_kms, cr, oss, ram,
    pod_security, containers, availability, gpu,
    governance,
)  # fmt: skip


@cache
def all_policies() -> tuple[PolicySpec, ...]:
    specs = tuple(spec for module in _MODULES for spec in module.POLICIES)
    names = [s.name for s in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"policy names must be unique: {duplicates}")
    return specs


def by_name() -> dict[str, PolicySpec]:
    return {s.name: s for s in all_policies()}
