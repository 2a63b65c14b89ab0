"""How the offline plan scales: synthetic specs of ~100, ~300 and ~1,000 resources.

A site registers more resources as the library grows (Karpenter, add-ons, Kueue, budgets...), so the
sizes are not fixed site counts: the resources of one and of two sites are measured first, and each row
takes the number of sites that lands nearest its label (a row is off by at most half a site).

For each size, in one process and run (medians of 5, after a warm-up): the seconds of the offline
plan's engine (the real program, spec → Platform → components, under the recording monitor), and of bare mock
registration of the same number of plain resources (Pulumi's own MockMonitor, trivial mocks): the
floor any offline plan stands on. Prints both, their ratio, and the plan's seconds per 1,000 resources.

    python -m bench.plan_scale            # goal: 1,000 resources under 3 s and within 2x of bare
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from lepton_infra.plan.engine import fewer_collections, record
from lepton_infra.plan.pulumi_sdk import without_source_positions
from lepton_infra.program import main
from lepton_infra.project import PLATFORM_KEY, StackConfig

REPEATS = 5
SIZES = {"~100": 100, "~300": 300, "~1,000": 1000}
# Two GPU pools a site, one spot and one on demand: both kinds of node group and of Karpenter pool.
POOLS_PER_SITE = 2


def synthetic_platform(sites: int, pools_per_site: int = POOLS_PER_SITE) -> dict[str, Any]:
    return {
        "name": "bench",
        "tags": {"team": "bench"},
        "sites": [
            {
                "name": f"s{i}",
                "cloud": "aws",
                "region": "us-west-2",
                "kubernetes_version": "1.33",
                "network": {"cidr": f"10.{i % 250}.0.0/16"},
                # A private endpoint, deployed to from inside the network (the spec refuses it undeclared).
                "kubernetes_runner": {"location": "in-network"},
                "system_pool": {"instance_type": "m7i.xlarge"},
                "gpu_pools": [
                    {"name": f"p{j}", "accelerator": "L4", "max_nodes": 4, "spot": j % 2 == 0}
                    for j in range(pools_per_site)
                ],
            }
            for i in range(sites)
        ],
    }


def sites_for(targets: dict[str, int]) -> dict[str, int]:
    """The number of sites whose plan lands nearest each target count of resources (at least one).

    Resources grow by a constant per site past what the platform registers once: both are measured.
    """
    one, two = (plan_once(synthetic_platform(sites))[1] for sites in (1, 2))
    per_site, fixed = two - one, 2 * one - two
    return {label: max(1, round((target - fixed) / per_site)) for label, target in targets.items()}


def plan_once(platform: dict[str, Any]) -> tuple[float, int]:
    config = StackConfig(stack="bench", path=Path("Pulumi.bench.yaml"), values={PLATFORM_KEY: platform})
    start = time.perf_counter()
    plan = record(main, project="lepton-infra", stack="bench", config=config)
    return time.perf_counter() - start, len(plan.resources)


class _Bare(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[Any, Any]]:
        return f"{args.name}-id", args.inputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[Any, Any], list[Any]]:
        return {}, []


def bare_once(count: int) -> float:
    # Timed from a fresh runtime, as the plan's ``record`` is: both set up their mocks and root stack.
    start = time.perf_counter()
    settings.ROOT.set(None)
    pulumi.runtime.set_mocks(_Bare(), "bare", "bench", preview=False)

    def program() -> None:
        for index in range(count):
            pulumi.CustomResource(
                "bench:index:Thing", f"thing-{index}", {f"prop{k}": f"value-{index}-{k}" for k in range(8)}
            )

    # The engine skips the SDK's stack walks and collects rarely; so does its floor, to stay comparable.
    with without_source_positions(), fewer_collections():
        _sync_await(run_pulumi_func(program))
    return time.perf_counter() - start


def main_bench() -> None:
    # Warm-up: the SDKs load their submodules on first use; sizing the rows plans twice more.
    plan_once(synthetic_platform(1))
    bare_once(100)
    sites = sites_for(SIZES)
    print(f"{'size':>7} {'sites':>5} {'resources':>9} {'plan s':>8} {'bare s':>8} {'ratio':>6} {'s/1k':>6}")
    for label, count_of_sites in sites.items():
        platform = synthetic_platform(count_of_sites)
        plan_runs, bare_runs, count = [], [], 0
        for _ in range(REPEATS):
            seconds, count = plan_once(platform)
            plan_runs.append(seconds)
            bare_runs.append(bare_once(count))
        plan_s, bare_s = statistics.median(plan_runs), statistics.median(bare_runs)
        print(
            f"{label:>7} {count_of_sites:>5} {count:>9} {plan_s:>8.2f} {bare_s:>8.2f} "
            f"{plan_s / bare_s:>5.2f}x {plan_s * 1000 / count:>6.2f}"
        )


if __name__ == "__main__":
    main_bench()
