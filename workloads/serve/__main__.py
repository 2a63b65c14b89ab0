"""``python -m workloads.serve``: see ``workloads.serve.settings`` for the flags."""

from workloads.serve.settings import parse_settings

settings = parse_settings()
# Imported after parsing so that a bad flag is reported at once, before torch loads.
from workloads.serve.server import run  # noqa: E402

raise SystemExit(run(settings))
