"""The policy packs the offline engine runs, by name: what ``plan``, ``check`` and ``policies`` iterate.

Each pack is its rules and the runner that evaluates them offline (``evaluate.evaluate_rules``, which
loads neither pulumi_policy nor gRPC: both packs are plain functions over the neutral view). Each pack's
modules load on first use, so a command that runs one pack pays for that pack alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from lepton_infra.plan.model import Plan, Violation
from lepton_infra.policies.config import PackConfig
from lepton_infra.policies.rule import PolicyRule

SECURITY = "lepton-security"
OPERABILITY = "lepton-operability"


def _security_rules() -> tuple[PolicyRule, ...]:
    from lepton_infra.policies.registry import all_policies

    return all_policies()


def _security_evaluate(plan: Plan, config: PackConfig) -> list[Violation]:
    from lepton_infra.plan.evaluate import evaluate_rules

    return evaluate_rules(plan, _security_rules(), SECURITY, config)


def _operability_rules() -> tuple[PolicyRule, ...]:
    from lepton_infra.policies.operability.registry import all_policies

    return all_policies()


def _operability_evaluate(plan: Plan, config: PackConfig) -> list[Violation]:
    from lepton_infra.plan.evaluate import evaluate_rules

    return evaluate_rules(plan, _operability_rules(), OPERABILITY, config)


@dataclass(frozen=True)
class Pack:
    name: str
    rules: Callable[[], tuple[PolicyRule, ...]]
    evaluate: Callable[[Plan, PackConfig], list[Violation]]
    # Where the pack's PulumiPolicy.yaml lives, for `pulumi preview --policy-pack`.
    path: str


PACKS: tuple[Pack, ...] = (
    Pack(SECURITY, _security_rules, _security_evaluate, "lepton_infra/policies"),
    Pack(OPERABILITY, _operability_rules, _operability_evaluate, "lepton_infra/policies/operability"),
)
PACK_NAMES: tuple[str, ...] = tuple(p.name for p in PACKS)


def selected(names: Iterable[str] | None = None) -> list[Pack]:
    """The packs named (every pack when ``names`` is None or empty), in their fixed order."""
    wanted = set(names or PACK_NAMES)
    unknown = wanted - set(PACK_NAMES)
    if unknown:
        raise ValueError(f"unknown policy pack(s) {sorted(unknown)}; packs: {', '.join(PACK_NAMES)}")
    return [p for p in PACKS if p.name in wanted]


def rules_by_name(packs: Sequence[Pack] | None = None) -> dict[str, PolicyRule]:
    """Every rule of the packs by name (their names never collide)."""
    return {r.name: r for pack in (packs or PACKS) for r in pack.rules()}


def evaluate_packs(
    plan: Plan, config: PackConfig | None = None, packs: Sequence[Pack] | None = None
) -> list[Violation]:
    """The violations of every selected pack on ``plan``, security first."""
    config = config or PackConfig()
    return [v for pack in (packs or PACKS) for v in pack.evaluate(plan, config)]
