"""``torchrun``, except that SIGTERM means "checkpoint and stop" instead of "fail".

Takes exactly torchrun's command line (``python -m workloads.train.launch --nproc-per-node 8 -m
workloads.train ...``); the training image puts it on ``PATH`` as ``torchrun``. Its part in a preemption,
and why, is steps 2 and 4 of the preemption flow in ``lepton_infra.contract``; its exit statuses are
``TrainExit``'s.

Why not plain torchrun: on SIGTERM, torchrun's elastic agent forwards the signal to its workers, waits for
them, and then raises, so it exits 1 with a traceback even when every worker checkpointed and exited 0
(seen with torch 2.13). Here the agent is told not to handle SIGTERM (``--signals-to-handle`` without it)
and this module forwards it to the workers instead; the agent then sees its workers finish with status 0
and exits 0 as after any successful run, and the launcher exits with the status the workers reported
(``stop_report``), if any. Any worker that fails still makes the whole launch fail, exactly as with plain
torchrun.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from torch.distributed.run import main as torchrun

from lepton_infra.contract import TrainExit
from workloads.train.stop_report import REPORT_DIR_ENV, reported_status

# The agent keeps its handling of the other signals (Ctrl-C in a terminal still tears everything down).
_AGENT_SIGNALS = "SIGINT,SIGHUP,SIGQUIT"


def main(argv: Sequence[str] | None = None) -> int:
    # torchrun reads each of its flags from PET_<FLAG> too; an explicit --signals-to-handle still wins.
    os.environ.setdefault("PET_SIGNALS_TO_HANDLE", _AGENT_SIGNALS)
    signal.signal(signal.SIGTERM, _forward_to_workers)
    with tempfile.TemporaryDirectory(prefix="lepton-launch-") as reports:
        os.environ[REPORT_DIR_ENV] = reports  # inherited by every worker the agent starts
        torchrun(list(sys.argv[1:] if argv is None else argv))  # raises (exit 1) if any worker failed
        return reported_status(Path(reports)) or TrainExit.OK


def _forward_to_workers(signum: int, frame: FrameType | None) -> None:
    workers = _worker_pids()
    if not workers:
        # Nothing has started training, so nothing needs saving: end as an unhandled SIGTERM would.
        raise SystemExit(128 + signum)
    for pid in workers:
        # torchrun starts each worker as the leader of its own session; signal the whole group, as it does.
        with contextlib.suppress(ProcessLookupError):  # it exited between the listing and the signal
            os.killpg(pid, signum)


def _worker_pids() -> list[int]:
    """Children of this process that lead their own session: the workers torchrun started."""
    me = os.getpid()
    pids: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone already
        # Fields after "(comm)", which may itself contain spaces and parentheses: state ppid pgrp session ...
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == me and int(fields[3]) == int(entry.name):
            pids.append(int(entry.name))
    return pids


if __name__ == "__main__":
    raise SystemExit(main())
