"""Deprecated import path of :mod:`lepton_infra.blueprint`, kept so existing programs keep working.

``lepton_infra.spec`` and every submodule (``lepton_infra.spec.workloads`` ...) are the blueprint's own
module objects under their old names: the same classes, so ``isinstance`` and pydantic agree across both.
"""

import importlib
import pkgutil
import sys

import lepton_infra.blueprint as _blueprint
from lepton_infra.blueprint import *  # noqa: F403
from lepton_infra.blueprint import __all__ as __all__

for _module in pkgutil.iter_modules(_blueprint.__path__):
    sys.modules[f"{__name__}.{_module.name}"] = importlib.import_module(
        f"{_blueprint.__name__}.{_module.name}"
    )
