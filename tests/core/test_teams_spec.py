"""Teams in the spec: quotas fit the pools, every workload belongs to a team, and no job waits forever."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from plan_helpers import problems, spec_issues, stack_config, without_teams

from lepton_infra.blueprint import PlatformSpec
from lepton_infra.blueprint.queueing import site_queues

Config = dict[str, Any]


def aws_prod() -> Config:
    """aws-prod: pools h100 (4 x p5.48xlarge = 32 H100) and l4 (10 x g6.xlarge = 10 L4); team ml-platform
    runs pretrain (2 x 8 H100) and serve (8 + 1 replicas x 1 L4), team research lends it H100."""
    return copy.deepcopy(stack_config("aws-prod"))


def team(config: Config, name: str) -> Config:
    found: Config = next(t for t in config["teams"] if t["name"] == name)
    return found


def quota(config: Config, name: str, accelerator: str) -> Config:
    found: Config = next(q for q in team(config, name)["quotas"] if q["accelerator"] == accelerator)
    return found


def pretrain(config: Config) -> Config:
    found: Config = next(w for w in config["workloads"] if w["name"] == "pretrain")
    return found


def test_the_example_teams_share_through_one_cohort() -> None:
    spec = PlatformSpec.model_validate(aws_prod())
    assert len(spec.teams) == 2 and {t.cohort for t in spec.teams} == {"lepton"}
    queues = site_queues(spec, "aws-usw2")
    assert queues is not None
    research = next(t for t in queues.teams if t.team == "research")
    assert research.on("h100") is not None and research.on("h100").lendable_gpus == 8  # type: ignore[union-attr]


def test_a_job_larger_than_its_team_can_ever_get_is_refused_with_what_it_could_get() -> None:
    config = aws_prod()
    pretrain(config)["nodes"] = 4  # 32 H100: ml-platform has 16 and may borrow 8 of research's
    issues = spec_issues(config)
    assert issues == [
        (
            "workloads[0]",
            "pretrain needs 32 H100 GPUs (4 nodes x 8) at once on site 'aws-usw2', but team 'ml-platform' "
            "can get at most 24 there (16 nominal + 8 it may borrow in cohort 'lepton'): it would wait in "
            "its queue forever; raise the team's quota or borrowing limit, or make it smaller",
        )
    ]


def test_borrowing_from_the_cohort_is_what_lets_a_job_bigger_than_its_quota_run() -> None:
    config = aws_prod()
    pretrain(config)["nodes"] = 3  # 24 H100 = 16 nominal + 8 borrowed
    PlatformSpec.model_validate(config)
    quota(config, "ml-platform", "H100")["borrowing_limit_gpus"] = 4
    assert "can get at most 20 there (16 nominal + 4 it may borrow" in spec_issues(config)[0][1]
    for t in config["teams"]:
        t.pop("cohort")
        for q in t["quotas"]:
            q.pop("borrowing_limit_gpus", None)
            q.pop("lending_limit_gpus", None)
    assert "can get at most 16 there (16 nominal, no cohort to borrow from)" in spec_issues(config)[0][1]


def test_an_inference_service_counts_its_rollout_surge() -> None:
    config = aws_prod()
    quota(config, "ml-platform", "L4")["gpus"] = 8  # max_replicas 8, but a rollout adds one
    quota(config, "research", "L4")["lending_limit_gpus"] = 0
    [(path, message)] = spec_issues(config)
    assert path == "workloads[1]"
    assert "serve needs 9 L4 GPUs (9 replicas during a rollout at max_replicas x 1)" in message


def test_quotas_beyond_what_the_pools_make_are_refused_with_how_far_they_over_commit() -> None:
    config = aws_prod()
    quota(config, "research", "H100")["gpus"] = 32  # 16 + 32 = 48 on a 32-GPU pool
    assert ("teams", _overcommit(48, 32, 50, 0)) in spec_issues(config)
    config["queueing"] = {"max_overcommit_percent": 50}
    PlatformSpec.model_validate(config)


def _overcommit(total: int, capacity: int, percent: int, allowed: int) -> str:
    return (
        f"the teams' H100 quotas on site 'aws-usw2' add up to {total} GPUs, but its H100 pools make at most "
        f"{capacity} at max_nodes: over-committed by {percent}% (allowed: {allowed}%); lower the quotas, "
        "raise the pools' max_nodes, or allow it with queueing.max_overcommit_percent"
    )


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (lambda c: pretrain(c).pop("team"), "workloads[0].team", "name the team whose GPU quota"),
        (lambda c: pretrain(c).update(team="nobody"), "workloads[0].team", "no team named 'nobody'"),
        (
            lambda c: pretrain(c).update(namespace="research"),
            "workloads[0].namespace",
            "not a namespace of team",
        ),
        (
            lambda c: team(c, "research").update(namespaces=["ml"]),
            "teams[1].namespaces",
            "already belongs to team",
        ),
        (lambda c: quota(c, "research", "H100").update(site="nowhere"), "teams[1].quotas[0].site", "no site"),
        (
            lambda c: quota(c, "research", "H100").update(accelerator="A100-80GB"),
            "teams[1].quotas[0].accelerator",
            "no A100-80GB pool",
        ),
        (
            lambda c: team(c, "research").pop("cohort"),
            "teams[1].quotas[0].lending_limit_gpus",
            "within a cohort",
        ),
        (
            lambda c: quota(c, "research", "H100").update(lending_limit_gpus=17),
            "teams[1].quotas[0].lending_limit_gpus",
            "at most its own quota",
        ),
        (
            lambda c: team(c, "research").update(namespaces=["kube-system"]),
            "teams[1].namespaces[0]",
            "belongs to the cluster",
        ),
        (
            lambda c: c["teams"].append(
                copy.deepcopy(c["teams"][1]) | {"namespaces": ["other"], "quotas": []}
            ),
            "teams",
            "used more than once",
        ),
    ],
)
def test_each_team_rule_names_the_field_to_change(change: Any, path: str, message: str) -> None:
    config = aws_prod()
    change(config)
    found = problems(config)
    assert message in found.get(f"lepton-infra:platform.{path}", ""), found


def test_a_platform_without_teams_queues_nothing_and_a_team_name_then_is_an_error() -> None:
    config = without_teams(aws_prod())
    assert site_queues(PlatformSpec.model_validate(config), "aws-usw2") is None
    pretrain(config)["team"] = "ml-platform"
    assert spec_issues(config) == [("workloads[0].team", "no team named 'ml-platform'; teams: none defined")]
