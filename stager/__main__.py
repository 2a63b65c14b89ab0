"""``python -m stager --source URI --destination DIR``: exit 0 once staged, 2 on a bad export, 1 otherwise.

A nonzero exit fails the init container; the kubelet runs it again with back-off, which retries a store
that was briefly unreachable and an export the trainer was still pruning.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from stager.copy import StageError, stage
from workloads.checkpoint.credentials import signing_options
from workloads.checkpoint.errors import CheckpointStorageError

BAD_EXPORT = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stager", description=__doc__)
    parser.add_argument("--source", required=True, help="the checkpoint location (CHECKPOINT_DIR)")
    parser.add_argument("--destination", required=True, type=Path, help="the local folder to fill")
    parser.add_argument("--poll-seconds", type=float, default=30.0, help="how often to look for an export")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        options = signing_options(args.source, fetch=True)
        stage(args.source, args.destination, options=options, poll_seconds=args.poll_seconds)
    except StageError as error:
        print(error, file=sys.stderr)
        return BAD_EXPORT
    except CheckpointStorageError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
