"""Every rule of the operability pack, in one list, for its ``__main__``, the offline runner and the CLI."""

from __future__ import annotations

from functools import cache

from lepton_infra.policies.operability import capacity, deployability, scheduling, services
from lepton_infra.policies.rule import PolicyRule

PACK_NAME = "lepton-operability"
_MODULES = (scheduling, capacity, services, deployability)


@cache
def all_policies() -> tuple[PolicyRule, ...]:
    rules = tuple(rule for module in _MODULES for rule in module.POLICIES)
    names = [r.name for r in rules]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"policy names must be unique: {duplicates}")
    return rules
