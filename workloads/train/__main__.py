"""``python -m workloads.train``: see ``workloads.train.cli``."""

from workloads.train.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
