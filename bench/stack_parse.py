"""How long a large stack file takes to read: the old way (PyYAML's pure-Python loader, twice: values, then
nodes for line numbers) against ``lepton_infra.yaml_input`` (one pass over libyaml's events, checked).

For 1 MB and 5 MB synthetic stack files (sites in block and flow style, as the examples under stacks/ are
written), in one process, medians of 3 after a warm-up, results dropped between runs:

    python -m bench.stack_parse
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from typing import Any

import yaml

from lepton_infra.yaml_input import Loader, parse_yaml

REPEATS = 3


def stack_text(megabytes: float) -> str:
    """A stack file of about ``megabytes`` MB: one platform key with as many sites as it takes."""
    parts = [
        "config:\n  lepton-infra:platform:\n    name: big\n"
        '    tags: {team: ml, cost-center: "4711"}\n    sites:\n'
    ]
    size, i = len(parts[0]), 0
    while size < megabytes * 1024 * 1024:
        site = (
            f"      - name: s{i}\n        cloud: aws\n        region: us-west-2\n"
            '        kubernetes_version: "1.33"\n'
            f"        network: {{cidr: 10.{i % 250}.0.0/16, api_allowlist: []}}\n"
            "        system_pool: {instance_type: m7i.xlarge, min_nodes: 2, max_nodes: 4}\n"
            "        gpu_pools:\n"
            "          - {name: h100, accelerator: H100, min_nodes: 0, max_nodes: 4, spot: false}\n"
            "          - name: l4\n            accelerator: L4\n"
            "            max_nodes: 10\n            spot: true\n"
        )
        parts.append(site)
        size += len(site)
        i += 1
    return "".join(parts)


def before(text: str) -> Any:
    """What project.py did: safe_load for the values, compose again for line numbers."""
    return yaml.safe_load(text), yaml.compose(text, Loader=yaml.SafeLoader)


def after(text: str) -> Any:
    return parse_yaml(text)


def seconds(read: Callable[[str], Any], text: str) -> float:
    read(text)  # warm-up
    runs = []
    for _ in range(REPEATS):
        gc.collect()
        start = time.perf_counter()
        result = read(text)
        runs.append(time.perf_counter() - start)
        del result
    return statistics.median(runs)


def main() -> None:
    print(f"loader: {Loader.__name__}")
    for megabytes in (1, 5):
        text = stack_text(megabytes)
        old, new = seconds(before, text), seconds(after, text)
        print(
            f"{len(text) / 1e6:.1f} MB: before {old:.2f} s ({old / megabytes:.2f} s/MB), "
            f"after {new:.2f} s ({new / megabytes:.2f} s/MB), {old / new:.1f}x faster"
        )


if __name__ == "__main__":
    main()
