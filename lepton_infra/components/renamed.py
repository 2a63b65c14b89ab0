"""Old class names of components that were renamed, still importable with a DeprecationWarning.

Every public component class is named ``<Cloud><Concept>`` (``AwsNetwork``, ``AzureNetwork``,
``AlicloudNetwork``), so all of them can live in one namespace (the multi-language package needs that).
Their Pulumi type tokens did not change (``lepton:aws:Network``), so no stack sees a new URN.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any


def old_names(module: str, renames: Mapping[str, str], namespace: Mapping[str, Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that serves each old name as its new class, warning once per use."""

    def __getattr__(name: str) -> Any:
        if name in renames:
            warnings.warn(
                f"{module}.{name} is now {renames[name]}; the old name goes away in a later release",
                DeprecationWarning,
                stacklevel=2,
            )
            return namespace[renames[name]]
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__
