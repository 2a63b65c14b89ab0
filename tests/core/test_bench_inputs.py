"""The benches' synthetic inputs stay valid as the spec grows: bench/plan_scale.py's platform was refused
once the spec asked private sites where their runner is, and nothing noticed until the bench was run."""

from __future__ import annotations

from bench.plan_scale import plan_once, synthetic_platform


def test_the_plan_scale_bench_plans_its_synthetic_platform() -> None:
    _, resources = plan_once(synthetic_platform(sites=1, pools_per_site=2))
    # A site's network, cluster, keys, registry, storage and two GPU pools: far more than a refusal leaves.
    assert resources > 50
