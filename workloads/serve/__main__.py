"""``python -m workloads.serve``: see ``workloads.serve.settings`` for the flags."""

import logging
import os
import sys

from workloads.serve.signals import Signals

# Before anything else: a SIGTERM while torch loads must not end the process by the signal.
signals = Signals().install()

from workloads.serve.settings import parse_settings  # noqa: E402

settings = parse_settings()
# Imported after parsing so that a bad flag is reported at once, before torch loads.
from workloads.serve.server import run  # noqa: E402

try:
    status = run(settings, signals)
except SystemExit as exit_:  # uvicorn's, when the port cannot be listened on
    status = exit_.code if isinstance(exit_.code, int) else 1
# Out now rather than through the interpreter's finalization, which first puts the default signal handlers
# back and then takes a second or more to tear torch down: a SIGTERM in that window (a second one, from a
# preStop hook or an operator) would end the process by the signal, status -15, after a clean drain.
logging.shutdown()
sys.stdout.flush()
sys.stderr.flush()
os._exit(status)
