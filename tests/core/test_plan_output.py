"""What `lepton-infra plan` writes where (issue 17): `--json -` is the plan alone on stdout; manifests start
with a header saying their IDs and ARNs come from the offline plan; the progress counter shows on a terminal
only."""

from __future__ import annotations

import io
import json
from pathlib import Path

import yaml
from plan_helpers import run_cli, stack_plan

from lepton_infra.cli.progress import Progress
from lepton_infra.plan.manifests import write_manifests


def test_json_to_stdout_is_valid_json_and_the_report_goes_to_stderr() -> None:
    done = run_cli("plan", "--stack", "existing-cluster", "--json", "-")
    plan = json.loads(done.stdout)
    assert plan["stack"] == "existing-cluster"
    assert "lepton-security (" in done.stderr  # the human report
    # Not a terminal: no progress line, no carriage return in the log.
    assert "\r" not in done.stderr and "resource(s) registered" not in done.stderr
    assert done.returncode == (1 if any(v["enforcement"] == "mandatory" for v in plan["violations"]) else 0)


def test_manifests_say_their_ids_come_from_the_offline_plan(tmp_path: Path) -> None:
    [path] = write_manifests(stack_plan("existing-cluster"), tmp_path)
    text = path.read_text()
    head = text.split("---", 1)[0]
    assert all(line.startswith("# ") for line in head.strip().splitlines())
    assert "offline plan" in head and "IDs, ARNs" in head and "existing-cluster" in head
    assert all(doc["apiVersion"] for doc in yaml.safe_load_all(text) if doc)  # still plain YAML


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_on_a_terminal_and_clears_itself() -> None:
    screen = Terminal()
    with Progress(screen, "planning p/dev") as progress:
        progress.update(1)
    assert "planning p/dev: 1 resource(s) registered" in screen.getvalue()
    assert screen.getvalue().endswith("\r\x1b[K")


def test_progress_is_silent_elsewhere() -> None:
    log = io.StringIO()
    with Progress(log, "planning p/dev") as progress:
        for count in range(100):
            progress.update(count)
    assert log.getvalue() == ""
