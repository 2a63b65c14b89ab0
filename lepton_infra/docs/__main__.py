"""``python -m lepton_infra.docs``: write docs/components.md; ``--check`` fails (exit 1) where it is stale."""

from __future__ import annotations

import argparse
import sys

from lepton_infra.docs.page import PAGE, render


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lepton_infra.docs", description=__doc__)
    parser.add_argument(
        "--check", action="store_true", help="compare with the checked-in page, write nothing"
    )
    args = parser.parse_args(argv)
    page = render()
    if args.check:
        if not PAGE.exists() or PAGE.read_text(encoding="utf-8") != page:
            print(f"{PAGE} is stale: run `python -m lepton_infra.docs`", file=sys.stderr)
            return 1
        return 0
    PAGE.parent.mkdir(exist_ok=True)
    PAGE.write_text(page, encoding="utf-8")
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
