"""Benchmark: our security pack vs checkov, both as processes started from the shell on the same files.

Writes N mixed Kubernetes objects (every pod-carrying kind, with Services, PodDisruptionBudgets, HPAs,
ServiceAccounts, Roles, RoleBindings, NetworkPolicies and ConfigMaps around them; secure and insecure
mixed, seeded) as one YAML file each, then times, for each tool, the whole process as a shell would
start it, start-up included:

    checkov -d DIR --framework kubernetes --skip-download -o json --quiet   (BC_SKIP_MAPPING=TRUE)
    python -m lepton_infra.cli check DIR --pack lepton-security --format json --policy-config CFG

It reports the median wall time and peak memory (RSS) of several runs of each, their ratio, and, per
checkov check ID, which objects each tool flagged: IDs our policies cite are compared object by object
(flagged by both, by checkov only, by us only); the rest are listed as not compared.

checkov lives in its own virtualenv (it downgrades packaging, networkx and boto3), pinned:

    python3 -m venv /tmp/checkov-venv && /tmp/checkov-venv/bin/pip install checkov==3.3.30
    python -m bench.policy_vs_checkov [--objects 1200] [--runs 3] [--checkov-runs 3]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CHECKOV_VERSION = "3.3.30"
REGISTRY = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
DIGEST = "@sha256:" + "a" * 64
IMAGE = f"{REGISTRY}/serve{DIGEST}"
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
WORKLOADS = {
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "ReplicaSet": "apps/v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
    "Pod": "v1",
}


def _privileged(c: dict[str, Any], _p: dict[str, Any]) -> None:
    c["securityContext"]["privileged"] = True


def _escalation(c: dict[str, Any], _p: dict[str, Any]) -> None:
    c["securityContext"]["allowPrivilegeEscalation"] = True


def _root(c: dict[str, Any], p: dict[str, Any]) -> None:
    c["securityContext"].update(runAsUser=0, runAsNonRoot=False)
    p["securityContext"].update(runAsUser=0, runAsNonRoot=False)


def _capabilities(c: dict[str, Any], _p: dict[str, Any]) -> None:
    c["securityContext"]["capabilities"] = {"add": ["SYS_ADMIN", "NET_RAW"]}


def _writable(c: dict[str, Any], _p: dict[str, Any]) -> None:
    c["securityContext"]["readOnlyRootFilesystem"] = False


def _resources(c: dict[str, Any], _p: dict[str, Any]) -> None:
    del c["resources"]


def _image(c: dict[str, Any], _p: dict[str, Any]) -> None:
    c["image"] = "nginx:latest"


def _probes(c: dict[str, Any], _p: dict[str, Any]) -> None:
    del c["livenessProbe"], c["readinessProbe"]


def _seccomp(c: dict[str, Any], p: dict[str, Any]) -> None:
    del c["securityContext"]["seccompProfile"], p["securityContext"]["seccompProfile"]


def _host(c: dict[str, Any], p: dict[str, Any]) -> None:
    p.update(hostNetwork=True, hostPID=True, hostIPC=True)
    c["ports"][0]["hostPort"] = 8080


def _secret_env(c: dict[str, Any], _p: dict[str, Any]) -> None:
    c["env"] = [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]


def _host_path(_c: dict[str, Any], p: dict[str, Any]) -> None:
    p["volumes"] = [{"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}}]


def _token(_c: dict[str, Any], p: dict[str, Any]) -> None:
    p["automountServiceAccountToken"] = True


MUTATIONS = (
    _privileged,
    _escalation,
    _root,
    _capabilities,
    _writable,
    _resources,
    _image,
    _probes,
    _seccomp,
    _host,
    _secret_env,
    _host_path,
    _token,
)


def _workload(kind: str, name: str, rng: random.Random) -> dict[str, Any]:
    container = copy.deepcopy(SECURE_CONTAINER)
    pod: dict[str, Any] = {
        "serviceAccountName": name,
        "automountServiceAccountToken": False,
        "securityContext": copy.deepcopy(POD_SECURITY),
        "containers": [container],
    }
    if rng.random() < 0.3:  # init containers must be checked as well
        init = copy.deepcopy(SECURE_CONTAINER)
        init["name"] = "init"
        pod["initContainers"] = [init]
    if rng.random() < 0.66:  # about two in three are insecure, with one to three problems each
        target = rng.choice([*pod.get("initContainers", []), container])
        for mutate in rng.sample(MUTATIONS, rng.randint(1, 3)):
            mutate(target, pod)
    if kind in ("Job", "CronJob"):
        pod["restartPolicy"] = "Never"
    metadata = {"name": name, "namespace": "ml", "labels": {"app.kubernetes.io/name": name}}
    template = {"metadata": {"labels": {"app": name}}, "spec": pod}
    if kind == "Pod":
        return {"apiVersion": "v1", "kind": kind, "metadata": metadata, "spec": pod}
    spec: dict[str, Any]
    if kind == "Job":
        spec = {"backoffLimit": 3, "activeDeadlineSeconds": 3600, "template": template}
    elif kind == "CronJob":
        job = {"backoffLimit": 3, "activeDeadlineSeconds": 3600, "template": template}
        spec = {"schedule": "0 * * * *", "jobTemplate": {"spec": job}}
    else:
        spec = {"selector": {"matchLabels": {"app": name}}, "template": template}
        if kind != "DaemonSet":
            spec["replicas"] = 2
        if kind == "StatefulSet":
            spec["serviceName"] = name
    return {"apiVersion": WORKLOADS[kind], "kind": kind, "metadata": metadata, "spec": spec}


def _around(kind: str, name: str, rng: random.Random) -> dict[str, Any]:
    """An object that is not a workload, for a workload named ``name``."""
    metadata = {"name": name, "namespace": "ml", "labels": {"app.kubernetes.io/name": name}}
    spec: dict[str, Any]
    if kind == "Service":
        spec = {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]}
        return {"apiVersion": "v1", "kind": kind, "metadata": metadata, "spec": spec}
    if kind == "PodDisruptionBudget":
        spec = {"maxUnavailable": 1, "selector": {"matchLabels": {"app": name}}}
        return {"apiVersion": "policy/v1", "kind": kind, "metadata": metadata, "spec": spec}
    if kind == "HorizontalPodAutoscaler":
        target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        spec = {"scaleTargetRef": target, "minReplicas": 2, "maxReplicas": 4}
        return {"apiVersion": "autoscaling/v2", "kind": kind, "metadata": metadata, "spec": spec}
    if kind == "ServiceAccount":
        return {"apiVersion": "v1", "kind": kind, "metadata": metadata, "automountServiceAccountToken": False}
    if kind == "Role":
        verbs = ["*"] if rng.random() < 0.2 else ["get", "list"]
        resources = ["secrets"] if rng.random() < 0.2 else ["configmaps"]
        rules = [{"apiGroups": [""], "resources": resources, "verbs": verbs}]
        if rng.random() < 0.1:
            rules.append({"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]})
        return {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": kind,
            "metadata": metadata,
            "rules": rules,
        }
    if kind == "RoleBinding":
        subject = (
            {"kind": "Group", "name": "system:authenticated", "apiGroup": "rbac.authorization.k8s.io"}
            if rng.random() < 0.1
            else {"kind": "ServiceAccount", "name": name, "namespace": "ml"}
        )
        ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name}
        return {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": kind,
            "metadata": metadata,
            "roleRef": ref,
            "subjects": [subject],
        }
    if kind == "NetworkPolicy":
        spec = {"podSelector": {"matchLabels": {"app": name}}, "policyTypes": ["Ingress"]}
        return {"apiVersion": "networking.k8s.io/v1", "kind": kind, "metadata": metadata, "spec": spec}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": {"config.yaml": "a: 1"}}


# Of every ten objects: four workloads (round-robin over the kinds) and six objects around them.
_AROUND = (
    "Service",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "HorizontalPodAutoscaler",
)
_EXTRA = ("NetworkPolicy", "ConfigMap")


def objects(count: int, seed: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    kinds = list(WORKLOADS)
    for index in range(count):
        slot, group = index % 10, index // 10
        if slot < 4:
            yield _workload(kinds[(group * 4 + slot) % len(kinds)], f"w{group}-{slot}", rng)
        elif slot < 9:
            yield _around(_AROUND[(group + slot) % len(_AROUND)], f"w{group}-{slot % 4}", rng)
        else:
            yield _around(_EXTRA[group % len(_EXTRA)], f"w{group}-x", rng)


def write(directory: Path, count: int, seed: int) -> None:
    for index, obj in enumerate(objects(count, seed)):
        name = f"{index:05d}-{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"
        (directory / name).write_text(yaml.safe_dump(obj, sort_keys=False))


@dataclass(frozen=True)
class Run:
    seconds: float
    max_rss_mib: float
    stdout: str


def timed(command: list[str], env: dict[str, str], runs: int) -> tuple[list[Run], float, float]:
    """``runs`` runs of ``command`` under /usr/bin/time (which reports its peak RSS); median s and MiB."""
    done = []
    for _ in range(runs):
        with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
            wrapped = ["/usr/bin/time", "-f", "%M", "-o", report.name, *command]
            start = time.perf_counter()
            finished = subprocess.run(wrapped, capture_output=True, env=env, check=False)
            elapsed = time.perf_counter() - start
            if finished.returncode not in (0, 1):
                sys.exit(f"{command[0]} failed ({finished.returncode}): {finished.stderr.decode()[-2000:]}")
            kib = float(report.read().strip().splitlines()[-1])
        done.append(Run(elapsed, kib / 1024, finished.stdout.decode()))
    return done, statistics.median(r.seconds for r in done), statistics.median(r.max_rss_mib for r in done)


def checkov_findings(output: str) -> dict[str, set[str]]:
    """checkov check ID -> names of the objects it failed."""
    report = json.loads(output)
    found: dict[str, set[str]] = {}
    for r in report if isinstance(report, list) else [report]:
        for check in r.get("results", {}).get("failed_checks", []):
            name = Path(check["file_path"]).stem.split("-", 2)[-1]
            found.setdefault(check["check_id"], set()).add(name)
    return found


def our_findings(output: str) -> dict[str, set[str]]:
    """Our policy name -> names of the objects it flagged (blocking or advisory, decided findings)."""
    found: dict[str, set[str]] = {}
    for v in json.loads(output)["violations"]:
        if v["urn"] and not v["message"].startswith("can't run policy"):
            found.setdefault(v["policy"], set()).add(v["urn"].rsplit("::", 1)[-1].split("/", 1)[-1])
    return found


def shared_checks() -> dict[str, list[str]]:
    """checkov ID -> our policies that cite it."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from lepton_infra.policies.registry import all_policies

    shared: dict[str, list[str]] = {}
    for rule in all_policies():
        for control in rule.controls:
            if control.framework == "checkov" and "K8S" in control.id:
                shared.setdefault(control.id, []).append(rule.name)
    return shared


def _key(check_id: str) -> tuple[int, int]:
    prefix, number = check_id.rsplit("_", 1)
    return (1 if prefix.startswith("CKV2") else 0, int(number))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3, help="runs of our check (the median is reported)")
    parser.add_argument("--checkov-runs", type=int, default=3, help="runs of checkov (0: skip it)")
    parser.add_argument("--checkov", default="/tmp/checkov-venv/bin/checkov")
    args = parser.parse_args()

    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    if args.checkov_runs:
        if not Path(args.checkov).exists():
            sys.exit(f"checkov not found at {args.checkov}; install it in its own venv (see this docstring)")
        version = subprocess.run([args.checkov, "--version"], capture_output=True, text=True, check=False)
        if version.stdout.strip() != CHECKOV_VERSION:
            sys.exit(f"checkov {version.stdout.strip()} found; the bench is pinned to {CHECKOV_VERSION}")
    with tempfile.TemporaryDirectory(prefix="policy-bench-") as tmp:
        directory = Path(tmp) / "manifests"
        directory.mkdir()
        write(directory, args.objects, args.seed)
        config = Path(tmp) / "policy.yaml"
        config.write_text(f"allowed_registries: [{REGISTRY}]\n")
        ours_cmd = [
            sys.executable,
            "-m",
            "lepton_infra.cli",
            "check",
            str(directory),
            "--pack",
            "lepton-security",
        ]
        ours_cmd += ["--format", "json", "--policy-config", str(config)]
        ours_runs, ours_s, ours_mib = timed(ours_cmd, env, args.runs)
        theirs_cmd = [args.checkov, "-d", str(directory), "--framework", "kubernetes", "--skip-download"]
        theirs_cmd += ["-o", "json", "--quiet"]
        theirs_runs, checkov_s, checkov_mib = (
            timed(theirs_cmd, env, args.checkov_runs)
            if args.checkov_runs
            else ([], float("nan"), float("nan"))
        )

    kinds = Counter(o["kind"] for o in objects(args.objects, args.seed))
    mix = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    print(f"objects: {args.objects} ({mix}; seed {args.seed})")
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    print(
        f"lepton-infra check: {ours_s:8.2f} s  {ours_mib:7.1f} MiB  (median of {args.runs}: "
        + ", ".join(f"{r.seconds:.2f}" for r in ours_runs)
        + ")"
    )
    if not theirs_runs:
        return
    print(
        f"checkov {CHECKOV_VERSION}:      {checkov_s:8.2f} s  {checkov_mib:7.1f} MiB  (median of "
        f"{args.checkov_runs}: " + ", ".join(f"{r.seconds:.2f}" for r in theirs_runs) + ")"
    )
    print(f"ratio:              {checkov_s / ours_s:8.1f}x faster")
    print()
    theirs = checkov_findings(theirs_runs[-1].stdout)
    ours = our_findings(ours_runs[-1].stdout)
    shared = shared_checks()
    print(f"{'checkov ID':<12} {'our policies':<52} {'both':>6} {'checkov only':>12} {'ours only':>9}")
    for check_id in sorted(set(shared) | set(theirs), key=_key):
        if check_id not in shared:
            continue
        flagged = theirs.get(check_id, set())
        caught = set().union(*(ours.get(p, set()) for p in shared[check_id]))
        policies = ", ".join(p.removeprefix("kubernetes-") for p in shared[check_id])
        print(
            f"{check_id:<12} {policies[:52]:<52} {len(flagged & caught):>6} {len(flagged - caught):>12} "
            f"{len(caught - flagged):>9}"
        )
    others = {k: len(v) for k, v in theirs.items() if k not in shared}
    print()
    print(
        "checkov IDs no policy of ours cites (not compared): "
        + (", ".join(f"{k}={v}" for k, v in sorted(others.items(), key=lambda kv: _key(kv[0]))) or "none")
    )


if __name__ == "__main__":
    main()
