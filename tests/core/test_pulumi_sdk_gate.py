"""The offline engine runs only on the Pulumi SDK series its private hooks were tested with, and says so in
one line otherwise: never a traceback from deep inside the SDK."""

from __future__ import annotations

import importlib.metadata

import pytest
from plan_helpers import ROOT

from lepton_infra.cli import main
from lepton_infra.plan import pulumi_sdk
from lepton_infra.plan.engine import record


def _installed(monkeypatch: pytest.MonkeyPatch, version: str) -> None:
    monkeypatch.setattr(pulumi_sdk, "installed_version", lambda: version)


def test_the_pinned_sdk_is_the_tested_one() -> None:
    pinned = next(
        line.split("==")[1].strip()
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if line.startswith("pulumi==")
    )
    assert pinned.startswith(pulumi_sdk.TESTED.removesuffix("x"))
    assert pulumi_sdk.installed_version() == importlib.metadata.version("pulumi")
    pulumi_sdk.require_supported()


@pytest.mark.parametrize("version", ["3.272.0", "3.272.7", "3.272.1rc1"])
def test_every_release_of_the_tested_series_is_accepted(
    monkeypatch: pytest.MonkeyPatch, version: str
) -> None:
    _installed(monkeypatch, version)
    pulumi_sdk.require_supported()


@pytest.mark.parametrize("version", ["3.271.9", "3.273.0", "4.0.0", "3.27.2", "dev"])
def test_another_sdk_is_refused_in_one_line_naming_both_versions(
    monkeypatch: pytest.MonkeyPatch, version: str
) -> None:
    _installed(monkeypatch, version)
    with pytest.raises(pulumi_sdk.UnsupportedPulumiSdk) as refused:
        pulumi_sdk.require_supported()
    message = str(refused.value)
    assert "\n" not in message
    assert f"pulumi {version} is installed" in message and f"pulumi {pulumi_sdk.TESTED}" in message


def test_recording_a_program_checks_the_sdk_before_running_it(monkeypatch: pytest.MonkeyPatch) -> None:
    _installed(monkeypatch, "3.280.0")
    ran = []
    with pytest.raises(pulumi_sdk.UnsupportedPulumiSdk):
        record(lambda: ran.append(True), project="p", stack="s")
    assert ran == []


def test_plan_exits_2_with_one_line_and_no_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _installed(monkeypatch, "3.300.1")
    assert main(["plan", "--project", str(ROOT), "--stack", "aws-dev"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "3.300.1" in err and pulumi_sdk.TESTED in err and "Traceback" not in err
