"""Prove a change left every stack's plan as it was: ``plan --json`` (and ``--manifests``) of each stack in
stacks/, from this tree and from a git ref, compared byte for byte once put in one order.

A plan lists its resources in construction order (``lepton_infra/plan/order.py``), the same on every
run; plans of commits before that listed them in the order registrations arrived, which varied between
two runs of one commit (measured: aws-dev's plan, run twice, differed from byte 19,371 on), and a policy
naming several objects in one message named them in that order. So that a ref from before still compares,
each plan's resources are compared sorted by URN, every resource's JSON (key order included) byte for
byte; its violations sorted, each message as the sorted fragments between its "; " and ": "; everything
else in the file as written. Each manifest file's YAML documents are compared sorted, each document byte
for byte. (`tests/core/test_plan_order.py` holds plans of this tree to one order.)

    python -m bench.plan_identity            # against main
    python -m bench.plan_identity REF        # against any commit

The ref's files are exported (``git archive``) into a temporary directory and run with the same
interpreter; nothing of the working tree is touched. Exits 1, naming each stack and file that differ.
"""

from __future__ import annotations

import filecmp
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def stacks(tree: Path) -> list[str]:
    return sorted(
        p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in (tree / "stacks").glob("Pulumi.*.yaml")
    )


def plan_all(tree: Path, out: Path) -> None:
    """Each stack's plan JSON and manifests under ``out/<stack>/``, planned by ``tree``'s own code."""
    for stack in stacks(tree):
        target = out / stack
        target.mkdir(parents=True)
        subprocess.run(
            [sys.executable, "-m", "lepton_infra.cli", "plan", "--stack", stack,
             "--json", str(target / "plan.json"), "--manifests", str(target / "manifests")],
            cwd=tree, env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
        )  # fmt: skip


def canonical(path: Path) -> str:
    """The file with the order of registration taken out (see the module's docstring)."""
    text = path.read_text()
    if path.name == "plan.json":
        plan = json.loads(text)
        plan["resources"] = sorted(plan["resources"], key=lambda resource: str(resource["urn"]))
        for violation in plan.get("violations", []):
            # A policy naming several objects lists them in the order they registered.
            violation["message"] = sorted(re.split(r"; |: ", str(violation.get("message", ""))))
        plan["violations"] = sorted(plan.get("violations", []), key=lambda v: json.dumps(v, sort_keys=True))
        return json.dumps(plan, indent=1)
    if path.suffix == ".yaml":
        return "---\n".join(sorted(text.split("\n---\n")))
    return text


def same(left: Path, right: Path) -> bool:
    before, after = canonical(left).splitlines(), canonical(right).splitlines()
    if before == after:
        return True
    first = next((i for i, (b, a) in enumerate(zip(before, after, strict=False)) if b != a), len(before))
    print(
        f"{right}: line {first + 1}:\n  was: {before[first : first + 1]}\n  now: {after[first : first + 1]}"
    )
    return False


def differences(before: Path, after: Path) -> list[str]:
    """Files present on one side only or with different bytes, relative to the stack directories."""
    found: list[str] = []

    def walk(cmp: filecmp.dircmp[str], prefix: str) -> None:
        found.extend(f"{prefix}{name} (one side only)" for name in cmp.left_only + cmp.right_only)
        found.extend(
            f"{prefix}{n}" for n in cmp.common_files if not same(Path(cmp.left, n), Path(cmp.right, n))
        )
        for name, sub in sorted(cmp.subdirs.items()):
            walk(sub, f"{prefix}{name}/")

    walk(filecmp.dircmp(before, after), "")
    return found


def main() -> int:
    ref = sys.argv[1] if len(sys.argv) > 1 else "main"
    with tempfile.TemporaryDirectory() as scratch:
        base, before, after = Path(scratch, "base"), Path(scratch, "before"), Path(scratch, "after")
        archive = subprocess.run(["git", "archive", ref], cwd=ROOT, capture_output=True, check=True).stdout
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(base, filter="data")
        plan_all(base, before)
        plan_all(ROOT, after)
        planned = [s for s in stacks(ROOT) if (after / s / "plan.json").is_file()]
        diff = differences(before, after)
    for line in diff:
        print(f"differs: {line}")
    print(f"{len(planned)} of {len(stacks(ROOT))} stacks planned; {len(diff)} files differ from {ref}")
    return 1 if diff or len(planned) != len(stacks(ROOT)) else 0


if __name__ == "__main__":
    sys.exit(main())
