"""How a worker hands its exit status to the launcher instead of exiting with it.

Step 4 of the preemption flow in ``lepton_infra.contract``, for a worker stopped by SIGTERM; the same for a
status every rank agreed on after the checkpoint store failed (no space, store unavailable), so that the
Job sees that status rather than torchrun's 1. Why not just exit with it: torchrun's elastic
agent takes any nonzero exit of a worker for a failure. It restarts the whole worker group (up to
``--max_restarts`` times: the restarted workers resume from the checkpoint and train on while the pod is
being drained, until the kubelet kills them), and once restarts are spent it exits 1 itself, which a
TrainingJob counts as a code error and fails the job on (seen with torch 2.13). So under the launcher a
stopped worker exits 0, as after a finished run, and leaves a report instead; the launcher, once all its
workers are done, exits with the status found in the reports.

Started without the launcher (``python -m workloads.train``), a worker exits with the status itself.
"""

from __future__ import annotations

import os
from pathlib import Path

# Set by the launcher for its workers: a private folder for their reports.
REPORT_DIR_ENV = "LEPTON_LAUNCHER_REPORT_DIR"


def hand_over(status: int, rank: int) -> int:
    """The status a worker that must end with ``status`` exits with: ``status`` itself, or under the
    launcher 0 plus a report. Every rank must hand over the same status (all stop on it together)."""
    folder = os.environ.get(REPORT_DIR_ENV)
    if not status or not folder:
        return status
    (Path(folder) / f"rank-{rank}").write_text(str(status))
    return 0


def reported_status(folder: Path) -> int | None:
    """The status the workers reported, or None if none did."""
    # Every rank runs the same command line, so all reports carry the same status.
    reports = sorted(folder.glob("rank-*"))
    return int(reports[0].read_text()) if reports else None
