"""Every rule of the operability pack, in one list, for its ``__main__``, the offline runner and the CLI."""

from __future__ import annotations

from functools import cache

from lepton_infra.policies.operability import capacity, deployability, scheduling, services
from lepton_infra.policies.rule import PolicyRule, collect

PACK_NAME = "lepton-operability"
_MODULES = (scheduling, capacity, services, deployability)


@cache
def all_policies() -> tuple[PolicyRule, ...]:
    return collect(_MODULES)
