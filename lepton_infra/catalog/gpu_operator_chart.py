"""The keys of the NVIDIA GPU Operator chart at the pinned version, to refuse a values key it does not have.

Helm ignores a values key the chart never reads: ``drivr: {version: ...}`` installs the default driver without
a word. The chart's own ``values.yaml`` at the pinned tag is packaged beside this module
(``charts/gpu-operator``, with its source and licence) and is the authority on which keys exist.

Where the chart's default under a key is a non-empty mapping, every key below it must be one of the chart's;
where it is anything else (an empty mapping such as ``resources: {}``, a list such as ``env: []``, a scalar),
the value is the user's to shape and nothing below it is checked. The chart has no ``values.schema.json``
that could say more.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any

import yaml

# The tag of the packaged values.yaml, and so the version the GPU runtime installs (gpu_runtime pins it).
GPU_OPERATOR_CHART_VERSION = "v25.10.1"

# Where the chart's values.yaml is packaged, relative to lepton_infra (pyproject's package-data ships it).
CHART_VALUES_FILE = "catalog/charts/gpu-operator/values.yaml"

# Keys the chart's templates read that its values.yaml only mentions in comments (``#version: ""``), or,
# for node-feature-discovery, the values of a subchart whose own values.yaml is not packaged: anything below
# these is accepted.
_OPEN_KEYS: frozenset[tuple[str, ...]] = frozenset(
    {
        ("operator", "version"),
        ("validator", "version"),
        ("nodeStatusExporter", "version"),
        ("dcgmExporter", "config"),
        ("dcgmExporter", "hpcJobMapping"),
        ("node-feature-discovery",),
    }
)


@cache
def chart_values() -> Mapping[str, Any]:
    """The chart's default values at ``GPU_OPERATOR_CHART_VERSION``."""
    text = resources.files("lepton_infra").joinpath(CHART_VALUES_FILE).read_text("utf-8")
    values: Mapping[str, Any] = yaml.safe_load(text)
    return values


def unknown_keys(values: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """The path of every key of ``values`` the pinned chart does not have, outermost first."""
    return list(_unknown(values, chart_values(), ()))


def _unknown(
    values: Mapping[str, Any], chart: Mapping[str, Any], prefix: tuple[str, ...]
) -> Iterator[tuple[str, ...]]:
    for key, value in values.items():
        path = (*prefix, str(key))
        if path in _OPEN_KEYS:
            continue
        if key not in chart:
            yield path
            continue
        default = chart[key]
        if isinstance(value, Mapping) and isinstance(default, Mapping) and default:
            yield from _unknown(value, default, path)
