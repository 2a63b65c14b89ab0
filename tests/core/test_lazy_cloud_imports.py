"""A single-cloud stack never imports the other clouds' SDKs (they are large and slow to load)."""

from __future__ import annotations

import subprocess
import sys

import pytest
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
    """Exit code of `lepton-infra plan --stack` in a fresh interpreter, and the cloud SDKs it imported."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(stack=stack, root=ROOT)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout.split()
    return int(out[0]), set(out[1].split(",")) if len(out) > 1 else set()


@pytest.mark.parametrize(
    ("stack", "sdks"),
    [
        ("aws-dev", {"pulumi_aws"}),
        ("azure-prod", {"pulumi_azure_native"}),
        ("alicloud-prod", {"pulumi_alicloud"}),
        ("existing-cluster", set()),
    ],
)
def test_a_single_cloud_stack_plans_with_only_its_own_sdk(stack: str, sdks: set[str]) -> None:
    code, loaded = loaded_sdks(stack)
    # The plan ran (1 is a blocking policy finding: the operability pack blocks today's stacks until the
    # day-one issues land; tests/operability/test_reviewed_plans.py tracks that).
    assert code in (0, 1)
    assert loaded == sdks
