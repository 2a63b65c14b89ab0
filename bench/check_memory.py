"""How `lepton-infra check`'s memory grows with the plan: peak RSS of the command against the file size.

Builds plans of ~10, ~50 and ~200 MB by replicating a reviewed plan (the aws-dev plan of
tests/operability/plans_ae54ed7, each copy under its own project name so URNs stay unique and every
reference stays inside its copy), writes them compact (no indentation: the least text per resource),
then runs `python -m lepton_infra.cli check FILE --format json` on each as a process under GNU time
(/usr/bin/time) and reads its peak RSS (``%M``). The same command on the one-copy plan is the
baseline: the interpreter, the CLI and the packs, which no plan size changes.

    python -m bench.check_memory                  # goal: peak RSS <= 2x the file size at 200 MB
    python -m bench.check_memory --sizes 10 50    # other sizes, in MB
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REVIEWED = Path(__file__).parents[1] / "tests" / "operability" / "plans_ae54ed7" / "aws-dev.json.gz"
PROJECT = "::lepton-infra::"
MB = 1_000_000
TIME = "/usr/bin/time"  # GNU time (Debian's `time` package)


def write_plan(path: Path, megabytes: float) -> int:
    """A plan of about ``megabytes`` MB made of copies of the reviewed plan; returns the resource count."""
    with gzip.open(REVIEWED, "rt", encoding="utf-8") as f:
        plan = json.load(f)
    one = json.dumps(plan["resources"], separators=(",", ":"))[1:-1]
    copies = max(1, round(megabytes * MB / len(one)))
    with path.open("w", encoding="utf-8") as out:
        out.write(f'{{"stack":{json.dumps(plan["stack"])},"resources":[')
        for i in range(copies):
            out.write("," if i else "")
            out.write(one if i == 0 else one.replace(PROJECT, f"::lepton-infra-{i}::"))
        out.write("]}")
    return copies * len(plan["resources"])


def check(path: Path) -> tuple[int, float, int]:
    """Peak RSS in bytes, wall seconds and exit code of `lepton-infra check` on ``path``.

    Measured by GNU time (``%M``, the child's ru_maxrss), not by this process's ``wait4``: Linux keeps
    the high-water mark across fork and exec, so a child of this (larger) process would report this
    process's peak as its own.
    """
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    with tempfile.NamedTemporaryFile("r") as peak:
        command = [sys.executable, "-m", "lepton_infra.cli", "check", str(path), "--format", "json"]
        start = time.perf_counter()
        done = subprocess.run(
            [TIME, "-f", "%M", "-o", peak.name, *command], stdout=subprocess.DEVNULL, env=env, check=False
        )
        seconds = time.perf_counter() - start
        kib = int(peak.read().split()[-1])
    return kib * 1024, seconds, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=float, nargs="+", default=[10, 50, 200], help="plan sizes in MB")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        base_path = Path(folder) / "one.json"
        write_plan(base_path, 0)
        baseline, base_seconds, code = check(base_path)
        size = base_path.stat().st_size
        print(f"{'plan':>10} {'resources':>10} {'peak RSS':>10} {'RSS/file':>9} {'(RSS-base)/file':>16} time")
        print(f"{size / MB:>8.2f}MB {'(base)':>10} {baseline / MB:>8.1f}MB {'':>26} {base_seconds:>6.2f}s")
        for megabytes in args.sizes:
            path = Path(folder) / f"plan-{megabytes:g}.json"
            count = write_plan(path, megabytes)
            size = path.stat().st_size
            peak, seconds, code = check(path)
            print(
                f"{size / MB:>8.1f}MB {count:>10,} {peak / MB:>8.1f}MB {peak / size:>8.2f}x "
                f"{(peak - baseline) / size:>15.2f}x {seconds:>6.2f}s"
                + ("" if code in (0, 1) else f" exit {code}")
            )
            path.unlink()


if __name__ == "__main__":
    main()
