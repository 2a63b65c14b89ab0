"""A single-cloud stack never imports the other clouds' SDKs (they are large and slow to load)."""

from __future__ import annotations

import subprocess
import sys

from plan_helpers import ROOT

PROBE = """
import sys, contextlib, io
from lepton_infra.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(["plan", "--stack", "{stack}", "--project", "{root}"])
loaded = sorted(m for m in ("pulumi_aws", "pulumi_azure_native", "pulumi_alicloud") if m in sys.modules)
print(code, ",".join(loaded))
"""


def loaded_sdks(stack: str) -> tuple[int, set[str]]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(stack=stack, root=ROOT)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout.split()
    return int(out[0]), set(out[1].split(",")) if len(out) > 1 else set()


def test_an_aws_only_stack_plans_without_the_azure_or_alibaba_sdks() -> None:
    code, loaded = loaded_sdks("aws-dev")
    assert code == 0
    assert loaded == {"pulumi_aws"}
