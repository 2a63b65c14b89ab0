"""The layers hold: import-linter's contracts (pyproject.toml) pass, and only one module of the offline
engine reaches into the Pulumi SDK's private parts."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from plan_helpers import ROOT

# Modules of the SDK's runtime the offline engine drives without a promise from the SDK to keep them.
PRIVATE_SDK_MODULES = {
    "pulumi.runtime.mocks",
    "pulumi.runtime.resource",
    "pulumi.runtime.rpc",
    "pulumi.runtime.settings",
    "pulumi.runtime.stack",
    "pulumi.runtime.sync_await",
}
SDK_DOOR = ROOT / "lepton_infra" / "plan" / "pulumi_sdk.py"


def test_every_import_contract_is_kept(tmp_path: Path) -> None:
    # In its own process: import-linter configures logging for the whole interpreter, which would
    # silence the loggers of tests that run after it in the same worker.
    command = "from importlinter.cli import lint_imports_command; lint_imports_command()"
    lint = [sys.executable, "-c", command, "--config", "pyproject.toml", "--cache-dir", str(tmp_path)]
    result = subprocess.run(lint, cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def _private_sdk_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name in PRIVATE_SDK_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "pulumi":
            names = {f"{node.module}.{a.name}" for a in node.names}
            if node.module in PRIVATE_SDK_MODULES or names & PRIVATE_SDK_MODULES:
                found.append(node.module)
            found += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    return found


def test_only_the_sdk_door_imports_private_parts_of_the_pulumi_sdk() -> None:
    offenders = {
        str(path.relative_to(ROOT)): imports
        for path in sorted((ROOT / "lepton_infra").rglob("*.py"))
        if path != SDK_DOOR and (imports := _private_sdk_imports(path))
    }
    assert offenders == {}
    assert _private_sdk_imports(SDK_DOOR)  # the check looks at the right names
