"""What ``lepton-infra check``, ``lepton-infra policies`` and ``lepton-infra plan`` call."""

from __future__ import annotations

from pathlib import Path

from lepton_infra.plan.loaders import PlanLoadError, load_plan
from lepton_infra.plan.model import Plan, Violation
from lepton_infra.plan.policy_runner import evaluate_plan
from lepton_infra.plan.reporters import RENDERERS
from lepton_infra.policies.config import ConfigError, PackConfig, load_config
from lepton_infra.policies.pack import PACK_NAME
from lepton_infra.policies.registry import all_policies, by_name

EXIT_OK, EXIT_VIOLATED, EXIT_UNREADABLE = 0, 1, 2


def evaluate(plan: Plan, config: PackConfig | Path | None = None) -> list[Violation]:
    """Every policy on every resource of ``plan``; exempted results carry their reason."""
    if isinstance(config, Path):
        config = load_config(config)
    return evaluate_plan(plan, all_policies(), config)


def check_command(file: Path, fmt: str = "text", config: Path | None = None) -> int:
    if fmt not in RENDERERS:
        print(f"error: unknown format {fmt!r}; choose one of {', '.join(RENDERERS)}")
        return EXIT_UNREADABLE
    try:
        pack_config = load_config(config) if config is not None else PackConfig()
        pack_config.check_names(all_policies())
        plan = load_plan(file)
    except (PlanLoadError, ConfigError) as e:
        print(f"error: {e}")
        return EXIT_UNREADABLE
    violations = evaluate(plan, pack_config)
    print(RENDERERS[fmt](violations, by_name()), end="")
    return EXIT_VIOLATED if any(v.blocks for v in violations) else EXIT_OK


def policies_command() -> int:
    specs = sorted(all_policies(), key=lambda s: (s.family, s.name))
    width = max(len(s.name) for s in specs)
    print(f"{'POLICY':<{width}}  {'PACK':<15}  {'ENFORCEMENT':<11}  {'SEVERITY':<8}  DESCRIPTION")
    for s in specs:
        print(f"{s.name:<{width}}  {PACK_NAME:<15}  {s.enforcement:<11}  {s.severity:<8}  {s.description}")
    return EXIT_OK
