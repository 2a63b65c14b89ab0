"""What the library's wheel installs: lepton_infra alone, never a generic top-level `workloads` package."""

from __future__ import annotations

import fnmatch
import tomllib

import setuptools
from plan_helpers import ROOT

from lepton_infra.catalog.gpu_operator_chart import CHART_VALUES_FILE


def test_the_wheel_holds_the_library_and_not_the_workloads_source() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = setuptools.find_packages(where=str(ROOT), include=include)
    assert "lepton_infra" in packages
    assert "lepton_infra.policies" in packages
    assert all(p == "lepton_infra" or p.startswith("lepton_infra.") for p in packages), packages


def test_the_wheel_holds_the_gpu_operator_chart_values_the_spec_checks_keys_against() -> None:
    """The spec checks an existing site's chart values against the packaged values.yaml: a wheel without it
    breaks that check and the stack-file schema. (Built and checked once: `pip wheel
    --no-build-isolation .` lists lepton_infra/catalog/charts/...)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["lepton_infra"]
    assert any(fnmatch.fnmatch(CHART_VALUES_FILE, p) for p in patterns)
    assert (ROOT / "lepton_infra" / CHART_VALUES_FILE).is_file()
