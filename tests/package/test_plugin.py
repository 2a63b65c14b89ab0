"""provider/ is a plugin `pulumi package add` can run: a Python source plugin whose environment holds us."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "provider"


def test_the_plugin_manifest_names_the_python_runtime_and_a_virtualenv_git_ignores() -> None:
    manifest = yaml.safe_load((PLUGIN / "PulumiPlugin.yaml").read_text())
    runtime = manifest["runtime"]
    assert runtime["name"] == "python"
    assert runtime["options"]["toolchain"] == "pip"
    assert f"/provider/{runtime['options']['virtualenv']}/" in (ROOT / ".gitignore").read_text().splitlines()


def test_the_language_host_runs_the_entry_point_of_a_bare_plugin_directory() -> None:
    """The Python language host runs `python <plugin dir>` when the directory has a __main__.py, and builds
    it as a package (running `pulumi.run.plugin`) only without one (pulumi-language-python, RunPlugin)."""
    assert (PLUGIN / "__main__.py").is_file()
    assert not (PLUGIN / "pyproject.toml").exists()


def test_the_plugins_environment_installs_this_repository_with_every_cloud_at_tested_versions() -> None:
    lines = [line.strip() for line in (PLUGIN / "requirements.txt").read_text().splitlines()]
    requirements = [line for line in lines if line and not line.startswith("#")]
    constraints = next(r.split(maxsplit=1)[1] for r in requirements if r.startswith("-c"))
    assert (PLUGIN / constraints).resolve() == ROOT / "constraints.txt"
    (local,) = [r for r in requirements if not r.startswith("-")]
    path, extras = local.split("[")
    assert (PLUGIN / path).resolve() == ROOT
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "lepton-infra"
    everything = project["optional-dependencies"][extras.rstrip("]")]
    assert everything == ["lepton-infra[aws,azure,alicloud]"]
