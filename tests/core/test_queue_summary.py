"""`lepton-infra plan` summarises GPU sharing: each pool's size at its maximum, each team's quota."""

from __future__ import annotations

import re

from plan_helpers import config_plan, stack_config, stack_plan, whole_plan, without_teams

from lepton_infra.blueprint import PlatformSpec
from lepton_infra.blueprint.queueing import pool_max_gpus
from lepton_infra.plan.tree import render_summary


def _row(*cells: object) -> re.Pattern[str]:
    return re.compile(r"\s+".join(re.escape(str(c)) for c in cells))


def test_the_summary_shows_each_pool_at_its_maximum_and_each_team_s_quota_per_accelerator_and_site() -> None:
    spec = PlatformSpec.model_validate(stack_config("aws-prod"))
    summary = render_summary(whole_plan("aws-prod"))
    site = spec.sites[0]
    for pool in site.gpu_pools:
        assert _row(site.name, pool.name, pool.accelerator.value, f"{pool_max_gpus(site, pool)} GPUs").search(
            summary
        )
    for team in spec.teams:
        for quota in team.quotas:
            row = _row(f"{team.name} (cohort {team.cohort})", quota.site, quota.accelerator.value, quota.gpus)
            assert row.search(summary), (team.name, quota)
    assert "lends up to 8" in summary


def test_the_summary_says_how_far_quotas_over_commit_a_pool() -> None:
    summary = render_summary(stack_plan("aws-dev"))
    assert "note: L4 quotas on aws-usw2 add up to 5, over the pools' 4 (over-committed by 25%)" in summary


def test_a_platform_without_teams_has_no_queue_summary() -> None:
    assert "Team GPU quotas" not in render_summary(config_plan(without_teams(stack_config("aws-dev"))))
