"""Entry point of ``python -m workloads.train``: its exit statuses are ``lepton_infra.contract.TrainExit``.

Done, or stopped by SIGTERM after a checkpoint: 0, or for the latter ``--preempted-exit-code`` where set,
on every rank (the preemption flow in ``lepton_infra.contract`` says why and how the launcher carries it).
``BAD_INPUT`` with one line on stderr for anything the user can fix (flags, data, checkpoint folder);
``NO_SPACE`` and ``STORAGE_UNAVAILABLE`` with one line when the checkpoint store fails, on every rank
(handed to the launcher the same way); ``FAILED`` for a diverged loss; ``INTERRUPTED`` for a second
Ctrl-C; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence

from lepton_infra.contract import TrainExit
from workloads.train.checkpointing import SetupError, StorageFailure
from workloads.train.config import PROG, parse_config
from workloads.train.data import DataError
from workloads.train.distributed import init_runtime, shutdown
from workloads.train.loop import TrainingDiverged, run
from workloads.train.signals import StopRequest
from workloads.train.stop_report import hand_over


def main(argv: Sequence[str] | None = None) -> int:
    # First, so that a SIGTERM during start-up (image pulled, node reclaimed) still ends in a clean stop.
    stop = StopRequest()
    stop.install()
    config = parse_config(argv)
    # Before the process group: what goes wrong while joining it (the fabric's checks) is logged too.
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format=f"%(asctime)s rank {os.environ.get('RANK', '0')} %(levelname)s %(name)s: %(message)s",
    )
    runtime = init_runtime()
    try:
        stopped = run(config, runtime, stop)
    except (DataError, SetupError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return TrainExit.BAD_INPUT
    except StorageFailure as error:
        if error.message:
            print(f"{PROG}: error: {error.message}", file=sys.stderr)
        return hand_over(error.status, runtime.rank)
    except TrainingDiverged as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return TrainExit.FAILED
    except KeyboardInterrupt:  # a second Ctrl-C: the person chose not to wait for the checkpoint
        return TrainExit.INTERRUPTED
    finally:
        shutdown()
    return hand_over(config.preempted_exit_code, runtime.rank) if stopped else TrainExit.OK
