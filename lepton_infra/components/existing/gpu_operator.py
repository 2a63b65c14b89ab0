"""The GPU Operator values of an existing cluster's site, from its ``gpu_operator`` settings.

The toolkit's environment starts with what the site's ``container_runtime`` needs
(``catalog/container_runtimes.py``) and goes on with the user's own ``values.toolkit.env`` entries: Helm
replaces a list, so a plain merge would drop one or the other.
"""

from __future__ import annotations

from typing import Any

from lepton_infra.blueprint.gpu_operator import GpuOperatorSpec
from lepton_infra.catalog.container_runtimes import TOOLKIT_ENV
from lepton_infra.components.kubernetes.gpu_runtime import merged


def existing_operator_values(spec: GpuOperatorSpec) -> dict[str, Any]:
    """Chart values for ``spec``: the typed settings, then the user's own values over them."""
    driver: dict[str, Any] = {}
    if spec.driver_version is not None:
        driver["version"] = spec.driver_version
    if spec.precompiled_driver:
        driver["usePrecompiled"] = True
    values: dict[str, Any] = {
        "mig": {"strategy": spec.mig_strategy},
        "dcgmExporter": {"enabled": spec.dcgm_exporter},
    }
    if driver:
        values["driver"] = driver
    own = dict(spec.values)
    own_toolkit = dict(own.pop("toolkit", {}))
    env = [{"name": n, "value": v} for n, v in TOOLKIT_ENV[spec.container_runtime].items()]
    env += own_toolkit.pop("env", [])
    if env:
        values["toolkit"] = {"env": env}
    if own_toolkit:
        own["toolkit"] = own_toolkit
    return merged(values, own)
