"""How the offline plan scales: synthetic specs of ~100, ~300 and ~1,000 resources.

For each size, in one process and run (medians of 5, after a warm-up): the seconds of the offline
plan's engine (the real program, spec → Platform → components, under the recording monitor), and of bare mock
registration of the same number of plain resources (Pulumi's own MockMonitor, trivial mocks): the
floor any offline plan stands on. Prints both and their ratio.

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

from lepton_infra.plan.engine import fewer_collections, record, without_source_positions
from lepton_infra.program import main
from lepton_infra.project import PLATFORM_KEY, StackConfig

REPEATS = 5


def synthetic_platform(sites: int, pools_per_site: int) -> dict[str, Any]:
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
    settings.ROOT.set(None)
    pulumi.runtime.set_mocks(_Bare(), "bare", "bench", preview=False)

    def program() -> None:
        for index in range(count):
            pulumi.CustomResource(
                "bench:index:Thing", f"thing-{index}", {f"prop{k}": f"value-{index}-{k}" for k in range(8)}
            )

    start = time.perf_counter()
    # The engine skips the SDK's stack walks and collects rarely; so does its floor, to stay comparable.
    with without_source_positions(), fewer_collections():
        _sync_await(run_pulumi_func(program))
    return time.perf_counter() - start


def main_bench() -> None:
    sizes = {"~100": (2, 1), "~300": (6, 1), "~1,000": (18, 3)}
    plan_once(synthetic_platform(1, 1))  # warm-up: the SDKs load their submodules on first use
    print(f"{'size':>7} {'resources':>9} {'plan s':>8} {'bare s':>8} {'ratio':>6}")
    for label, (sites, pools) in sizes.items():
        platform = synthetic_platform(sites, pools)
        plan_runs, bare_runs, count = [], [], 0
        for _ in range(REPEATS):
            seconds, count = plan_once(platform)
            plan_runs.append(seconds)
            bare_runs.append(bare_once(count))
        plan_s, bare_s = statistics.median(plan_runs), statistics.median(bare_runs)
        print(f"{label:>7} {count:>9} {plan_s:>8.2f} {bare_s:>8.2f} {plan_s / bare_s:>5.2f}x")


if __name__ == "__main__":
    main_bench()
