"""The benches' synthetic inputs stay valid as the spec grows: bench/plan_scale.py's platform was refused
once the spec asked private sites where their runner is, and nothing noticed until the bench was run; and
its rows stay the size their labels say: its "~1,000" row had grown to 1,910 resources as sites gained
Karpenter, add-ons, Kueue, budgets and log buckets, measuring something else than its label."""

from __future__ import annotations

from bench.plan_scale import plan_once, sites_for, synthetic_platform


def test_the_plan_scale_bench_plans_its_synthetic_platform() -> None:
    _, resources = plan_once(synthetic_platform(sites=1, pools_per_site=2))
    # A site's network, cluster, keys, registry, storage and two GPU pools: far more than a refusal leaves.
    assert resources > 50


def test_each_plan_scale_row_lands_within_half_a_site_of_its_label() -> None:
    one, two = (plan_once(synthetic_platform(sites))[1] for sites in (1, 2))
    per_site = two - one
    target = two + per_site // 3  # between two counts of sites: the nearer one must be taken
    sites = sites_for({"row": target})["row"]
    _, resources = plan_once(synthetic_platform(sites))
    assert abs(resources - target) <= per_site / 2
