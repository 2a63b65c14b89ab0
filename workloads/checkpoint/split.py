"""Write the weights of each single-file checkpoint of earlier versions beside it, for the server.

    python -m workloads.checkpoint.split LOCATION

The server loads only ``step-N.model.pt`` (never training state), and earlier versions of the trainer
wrote one ``step-N.pt`` holding both. For each such checkpoint without a weights file, this reads it (with
the weights-only unpickler, as the trainer does) and writes ``step-N.model.pt``; the original stays, and
the trainer keeps resuming from it. A training run that goes on does the same by itself from its next
checkpoint on. Exit 0 when done (files that do not load are skipped with a warning), 2 with one line when
the location cannot be used, 69 when its store did not answer.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from lepton_infra.contract import TrainExit
from workloads.checkpoint.errors import CheckpointStorageError, StorageUnavailable
from workloads.checkpoint.folder import CheckpointFolder

PROG = "python -m workloads.checkpoint.split"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("location", help="folder or bucket URI of the checkpoints")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        folder = CheckpointFolder(args.location)
        entries = folder.entries()
        for step in sorted(entries):
            if "legacy" in entries[step] and "model" not in entries[step]:
                state = folder.load(step, "training")
                if state is not None:
                    print(folder.write_weights(step, state))
    except StorageUnavailable as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return TrainExit.STORAGE_UNAVAILABLE
    except CheckpointStorageError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return TrainExit.BAD_INPUT
    return TrainExit.OK


if __name__ == "__main__":
    raise SystemExit(main())
