"""Benchmark: our Kubernetes policies vs checkov on the same rendered objects.

Renders N Kubernetes workloads (every workload kind, secure and insecure mixed, seeded) to YAML, runs
checkov (`--framework kubernetes --skip-download`, BC_SKIP_MAPPING=TRUE, in its own virtualenv) and our
check (read the same YAML, evaluate the pack offline) on them, and prints both times, the ratio, and for
the rules both cover (mapped through the checkov IDs in our policy metadata) what each caught.

    python -m venv /tmp/checkov-venv && /tmp/checkov-venv/bin/pip install checkov==3.3.30
    .venv/bin/python -m bench.policy_vs_checkov [--objects 1200] [--checkov /tmp/checkov-venv/bin/checkov]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from lepton_infra.plan.evaluate import evaluate
from lepton_infra.plan.model import Plan, PlanResource
from lepton_infra.policies.registry import all_policies

DIGEST = "@sha256:" + "a" * 64
IMAGE = f"123456789012.dkr.ecr.us-west-2.amazonaws.com/serve{DIGEST}"
SECURE_CONTAINER: dict[str, Any] = {
    "name": "app",
    "image": IMAGE,
    "ports": [{"containerPort": 8080}],
    "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "1Gi"}},
    "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
    "readinessProbe": {"httpGet": {"path": "/readyz", "port": 8080}},
    "securityContext": {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    },
}
POD_SECURITY = {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}}
KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod")
API_VERSIONS = {
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
    "Pod": "v1",
}


def _mutate_privileged(c: dict[str, Any], _p: dict[str, Any]) -> None:
    c["securityContext"]["privileged"] = True


def _mutate_escalation(c: dict[str, Any], _p: dict[str, Any]) -> None:
    c["securityContext"]["allowPrivilegeEscalation"] = True


def _mutate_root(c: dict[str, Any], p: dict[str, Any]) -> None:
    c["securityContext"].update(runAsUser=0, runAsNonRoot=False)
    p["securityContext"].update(runAsUser=0, runAsNonRoot=False)


def _mutate_capabilities(c: dict[str, Any], _p: dict[str, Any]) -> None:
    c["securityContext"]["capabilities"] = {"add": ["SYS_ADMIN", "NET_RAW"]}


def _mutate_writable(c: dict[str, Any], _p: dict[str, Any]) -> None:
    c["securityContext"]["readOnlyRootFilesystem"] = False


def _mutate_resources(c: dict[str, Any], _p: dict[str, Any]) -> None:
    del c["resources"]


def _mutate_image(c: dict[str, Any], _p: dict[str, Any]) -> None:
    c["image"] = "nginx:latest"


def _mutate_probes(c: dict[str, Any], _p: dict[str, Any]) -> None:
    del c["livenessProbe"], c["readinessProbe"]


def _mutate_seccomp(c: dict[str, Any], p: dict[str, Any]) -> None:
    del c["securityContext"]["seccompProfile"], p["securityContext"]["seccompProfile"]


def _mutate_host(c: dict[str, Any], p: dict[str, Any]) -> None:
    p.update(hostNetwork=True, hostPID=True, hostIPC=True)
    c["ports"][0]["hostPort"] = 8080


MUTATIONS = (
    _mutate_privileged,
    _mutate_escalation,
    _mutate_root,
    _mutate_capabilities,
    _mutate_writable,
    _mutate_resources,
    _mutate_image,
    _mutate_probes,
    _mutate_seccomp,
    _mutate_host,
)


def make_object(index: int, rng: random.Random) -> dict[str, Any]:
    kind = KINDS[index % len(KINDS)]
    container = copy.deepcopy(SECURE_CONTAINER)
    pod: dict[str, Any] = {"securityContext": copy.deepcopy(POD_SECURITY), "containers": [container]}
    if rng.random() < 0.3:  # init containers must be checked as well
        init = copy.deepcopy(SECURE_CONTAINER)
        init["name"] = "init"
        pod["initContainers"] = [init]
    # About two objects in three are insecure, with one to three problems each.
    if rng.random() < 0.66:
        target = rng.choice([*pod.get("initContainers", []), container])
        for mutate in rng.sample(MUTATIONS, rng.randint(1, 3)):
            mutate(target, pod)
    if kind in ("Job", "CronJob"):
        pod["restartPolicy"] = "Never"
    name = f"w{index}"
    metadata = {"name": name, "namespace": "ml", "labels": {"app.kubernetes.io/name": name}}
    template = {"metadata": {"labels": {"app": name}}, "spec": pod}
    spec: dict[str, Any]
    if kind == "Pod":
        return {"apiVersion": "v1", "kind": kind, "metadata": metadata, "spec": pod}
    if kind == "Job":
        spec = {"backoffLimit": 3, "activeDeadlineSeconds": 3600, "template": template}
    elif kind == "CronJob":
        spec = {
            "schedule": "0 * * * *",
            "jobTemplate": {"spec": {"backoffLimit": 3, "activeDeadlineSeconds": 3600, "template": template}},
        }
    else:
        spec = {"selector": {"matchLabels": {"app": name}}, "template": template}
        if kind != "DaemonSet":
            spec["replicas"] = 2
        if kind == "StatefulSet":
            spec["serviceName"] = name
    return {"apiVersion": API_VERSIONS[kind], "kind": kind, "metadata": metadata, "spec": spec}


def _type_token(obj: dict[str, Any]) -> str:
    group_version = obj["apiVersion"] if "/" in obj["apiVersion"] else f"core/{obj['apiVersion']}"
    return f"kubernetes:{group_version}:{obj['kind']}"


def run_ours(directory: Path) -> tuple[float, dict[str, set[str]]]:
    """Read the YAML files, build a plan, evaluate every policy: what `lepton-infra check` does."""
    start = time.perf_counter()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    resources = []
    for path in sorted(directory.glob("*.yaml")):
        obj = yaml.load(path.read_text(), Loader=loader)
        token = _type_token(obj)
        name = obj["metadata"]["name"]
        urn = f"urn:pulumi:bench::lepton-infra::{token}::{name}"
        resources.append(PlanResource(urn=urn, type=token, name=name, custom=True, inputs=obj))
    violations = evaluate(Plan(stack="bench", resources=resources))
    elapsed = time.perf_counter() - start
    found: dict[str, set[str]] = {}
    for v in violations:
        if v.urn:
            found.setdefault(v.urn.rsplit("::", 1)[-1], set()).add(v.policy)
    return elapsed, found


def run_checkov(checkov: str, directory: Path) -> tuple[float, dict[str, set[str]], Counter[str]]:
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE"}
    command = [
        checkov,
        "-d",
        str(directory),
        "--framework",
        "kubernetes",
        "--skip-download",
        "-o",
        "json",
        "--quiet",
    ]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit(f"checkov failed ({done.returncode}): {done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    reports = report if isinstance(report, list) else [report]
    found: dict[str, set[str]] = {}
    checks: Counter[str] = Counter()
    for r in reports:
        for check in r.get("results", {}).get("failed_checks", []):
            name = Path(check["file_path"]).stem
            found.setdefault(name, set()).add(check["check_id"])
            checks[check["check_id"]] += 1
    return elapsed, found, checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--checkov", default="/tmp/checkov-venv/bin/checkov")
    args = parser.parse_args()
    if not Path(args.checkov).exists():
        sys.exit(
            f"checkov not found at {args.checkov}; install it in its own venv (see this file's docstring)"
        )

    # Shared rules: checkov IDs our policies name in their controls.
    shared = {
        c.id: s.name
        for s in all_policies()
        for c in s.controls
        if c.framework == "checkov" and c.id.startswith("CKV_K8S_")
    }
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="policy-bench-") as tmp:
        directory = Path(tmp)
        for i in range(args.objects):
            obj = make_object(i, rng)
            (directory / f"{obj['metadata']['name']}.yaml").write_text(yaml.safe_dump(obj, sort_keys=False))
        ours_s, ours = run_ours(directory)
        checkov_s, theirs, checks = run_checkov(args.checkov, directory)

    print(f"objects: {args.objects} (kinds: {', '.join(KINDS)}; seed {args.seed})")
    print(f"checkov 3.3.30: {checkov_s:8.2f} s")
    print(f"lepton-infra:   {ours_s:8.2f} s")
    print(f"ratio:          {checkov_s / ours_s:8.1f}x faster")
    print()
    print(f"{'checkov check':<12} {'our policy':<46} {'checkov':>8} {'ours':>6} {'missed':>7}")
    missed_total = 0
    for check_id, policy in sorted(shared.items(), key=lambda kv: int(kv[0].rsplit("_", 1)[1])):
        flagged = {name for name, ids in theirs.items() if check_id in ids}
        caught = {name for name in flagged if policy in ours.get(name, set())}
        missed = flagged - caught
        missed_total += len(missed)
        ours_count = sum(policy in p for p in ours.values())
        print(f"{check_id:<12} {policy:<46} {len(flagged):>8} {ours_count:>6} {len(missed):>7}")
        if missed:
            print(f"    missed on: {', '.join(sorted(missed)[:10])}")
    print()
    print(f"checkov findings in shared rules that we missed: {missed_total}")
    others = {k: v for k, v in checks.items() if k not in shared}
    print(
        "checkov checks outside the shared rules (not compared): "
        + ", ".join(f"{k}={v}" for k, v in sorted(others.items()))
    )


if __name__ == "__main__":
    main()
