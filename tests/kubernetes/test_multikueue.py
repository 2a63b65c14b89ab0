"""MultiKueue between two sites of one cloud, and `placement: any` refused where it cannot work.

The two-site stack: a manager cluster and a worker cluster built elsewhere (``cloud: existing``), sharing
one registry and one bucket. The manager holds the job and dispatches it; the worker runs it with the
objects its own Kubernetes layer pre-created (namespace, LocalQueue, Service, ServiceAccount).
"""

from __future__ import annotations

import base64
import copy
import ipaddress
import re
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from kueue_schema import kueue_errors
from manifest_helpers import Manifests
from multikueue_config import BUCKET, WORKER_URL, two_sites
from plan_helpers import config_plan, problems, spec_issues, stack_config

from lepton_infra.components.kubernetes.multikueue import MANAGER_RULES, worker_kubeconfig
from lepton_infra.plan.model import Plan


@pytest.fixture(scope="module")
def plan() -> Plan:
    return config_plan(two_sites())


def on(plan: Plan, site: str) -> Manifests:
    """The objects applied through ``site``'s Kubernetes provider."""
    return Manifests(
        Plan(
            stack=plan.stack, resources=[r for r in plan.resources if f"-{site}-k8s::" in (r.provider or "")]
        )
    )


def test_every_multikueue_object_is_valid_for_kueue_s_crds(plan: Plan) -> None:
    objects = [o for o in Manifests(plan).objects if o["apiVersion"].startswith("kueue.x-k8s.io/")]
    assert {"MultiKueueCluster", "MultiKueueConfig", "AdmissionCheck"} <= {o["kind"] for o in objects}
    assert {o["metadata"]["name"]: kueue_errors(o) for o in objects} == {
        o["metadata"]["name"]: [] for o in objects
    }


def test_the_manager_holds_the_job_for_multikueue_and_never_runs_it(plan: Plan) -> None:
    hub = on(plan, "hub")
    job = hub.one("Job", "pretrain")
    # Its own Job controller leaves a Job with a foreign managedBy alone (KEP-4368); the value is immutable.
    assert job["spec"]["managedBy"] == "kueue.x-k8s.io/multikueue"
    [resource] = [r for r in plan.of_type("kubernetes:batch/v1:Job") if "-hub-k8s::" in (r.provider or "")]
    assert resource.options["replaceOnChanges"] == ["spec.managedBy"]
    assert resource.options["ignoreChanges"] == ["spec.suspend"]
    queue = hub.one("LocalQueue", job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"])
    dispatch = hub.one("ClusterQueue", queue["spec"]["clusterQueue"])
    assert dispatch["spec"]["admissionChecksStrategy"] == {"admissionChecks": [{"name": "multikueue"}]}
    check = hub.one("AdmissionCheck", "multikueue")
    assert check["spec"]["controllerName"] == "kueue.x-k8s.io/multikueue"
    config = hub.one("MultiKueueConfig", check["spec"]["parameters"]["name"])
    assert config["spec"]["clusters"] == ["gpu-a"]
    # The dispatch queue counts the job against the worker pool its pods select, as much as the worker gives.
    [flavor] = [f for f in hub.all("ResourceFlavor") if f["metadata"]["name"].startswith("multikueue-")]
    assert flavor["spec"]["nodeLabels"].items() <= job["spec"]["template"]["spec"]["nodeSelector"].items()
    [entry] = dispatch["spec"]["resourceGroups"][0]["flavors"]
    assert entry["name"] == flavor["metadata"]["name"] and entry["resources"][0]["nominalQuota"] == 24


def test_the_worker_has_everything_the_copied_job_needs_but_the_job(plan: Plan) -> None:
    worker, hub = on(plan, "gpu-a"), on(plan, "hub")
    job = hub.one("Job", "pretrain")
    assert worker.all("Job") == []
    queue = worker.one("LocalQueue", job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"])
    assert queue["metadata"]["namespace"] == job["metadata"]["namespace"]
    assert worker.one("ClusterQueue", queue["spec"]["clusterQueue"])  # the team's own, with its quota
    assert worker.one("WorkloadPriorityClass", job["metadata"]["labels"]["kueue.x-k8s.io/priority-class"])
    spec = job["spec"]["template"]["spec"]
    assert worker.one("ServiceAccount", spec["serviceAccountName"])["metadata"]["namespace"] == "ml"
    assert worker.one("Service", spec["subdomain"])  # the rendezvous host of the copied pods
    # The copy names the shared registry and bucket.
    container = spec["containers"][0]
    assert container["image"].startswith("210987654321.dkr.ecr.eu-central-1.amazonaws.com/")
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["CHECKPOINT_DIR"].startswith(BUCKET)


def test_the_manager_reaches_the_worker_with_a_narrow_service_account_token(plan: Plan) -> None:
    worker, hub = on(plan, "gpu-a"), on(plan, "hub")
    token = worker.one("Secret", "multikueue-manager-token")
    assert token["type"] == "kubernetes.io/service-account-token"
    assert token["metadata"]["annotations"] == {"kubernetes.io/service-account.name": "multikueue-manager"}
    role = worker.one("ClusterRole", "multikueue-manager")
    verbs = {(r["apiGroups"][0], res): set(r["verbs"]) for r in role["rules"] for res in r["resources"]}
    assert "*" not in {v for vs in verbs.values() for v in vs} and verbs[("batch", "jobs")] == {
        "create",
        "delete",
        "get",
        "list",
        "watch",
    }
    binding = worker.one("ClusterRoleBinding", "multikueue-manager")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "multikueue-manager", "namespace": "kueue-system"}
    ]
    secret = hub.one("Secret", "gpu-a-multikueue")
    assert secret["stringData"] == "[secret]"  # a Pulumi secret: the token never lands plain in the state
    cluster = hub.one("MultiKueueCluster", "gpu-a")
    assert cluster["spec"]["clusterSource"]["kubeConfig"] == {
        "locationType": "Secret",
        "location": "gpu-a-multikueue",
    }
    assert len(MANAGER_RULES) == len(role["rules"])


def kueue_refuses(kubeconfig: str) -> list[str]:
    """Kueue's validateKubeconfig (pkg/controller/admissionchecks/multikueue/multikueuecluster.go, v0.19.2),
    ported: no token file, no insecure TLS, CA as data, a server that is an IP or DNS-1123 host, no basic
    auth, no exec plugin, no auth provider."""
    config = yaml.safe_load(kubeconfig)
    reasons = []
    for user in config.get("users", []):
        auth = user.get("user", {})
        reasons += [
            key for key in ("tokenFile", "username", "password", "exec", "auth-provider") if key in auth
        ]
    for cluster in config.get("clusters", []):
        settings = cluster.get("cluster", {})
        if settings.get("insecure-skip-tls-verify"):
            reasons.append("insecure")
        if "certificate-authority" in settings:
            reasons.append("ca file")
        host = urlparse(settings.get("server", "")).hostname or ""
        try:
            ipaddress.ip_address(host)
        except ValueError:
            if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", host):
                reasons.append("untrusted server")
    return reasons


def test_the_worker_kubeconfig_is_one_kueue_accepts() -> None:
    ca = base64.b64encode(b"-----BEGIN CERTIFICATE-----\n...\n").decode()
    kubeconfig = worker_kubeconfig("gpu-a", WORKER_URL, ca, "eyJhbGciOiJSUzI1NiJ9.payload.signature")
    assert kueue_refuses(kubeconfig) == []
    config = yaml.safe_load(kubeconfig)
    assert config["clusters"][0]["cluster"] == {"server": WORKER_URL, "certificate-authority-data": ca}
    assert config["users"][0]["user"] == {"token": "eyJhbGciOiJSUzI1NiJ9.payload.signature"}
    # What a cloud's own kubeconfig does (`aws eks get-token`, kubelogin) is what Kueue refuses.
    exec_user = config | {"users": [{"name": "u", "user": {"exec": {"command": "aws"}}}]}
    assert kueue_refuses(yaml.safe_dump(exec_user)) == ["exec"]


@pytest.mark.parametrize(
    ("change", "path", "reason"),
    [
        (
            lambda c: c["workloads"][1].update(placement="any"),
            "workloads[1].placement",
            "MultiKueue dispatches batch Jobs",
        ),
        (lambda c: c["queueing"].pop("multikueue"), "workloads[0].placement", "needs queueing.multikueue"),
        (
            lambda c: c["sites"][0].update(kubernetes_version="1.31"),
            "queueing.multikueue.manager",
            "ignores spec.managedBy",
        ),
        (
            lambda c: c["sites"][1].update(registry="harbor.gpu-a.example"),
            "queueing.multikueue.workers[0].site",
            "share one (replicated) registry",
        ),
        (
            lambda c: c["sites"][1].update(artifact_bucket_uri="s3://gpu-a-only"),
            "queueing.multikueue.workers[0].site",
            "the manager's bucket",
        ),
        (
            lambda c: c["workloads"][0].update(checkpoint={"kind": "volume", "claim_name": "ckpt"}),
            "workloads[0].checkpoint",
            "start over",
        ),
        (lambda c: c["workloads"][0].update(sites=["hub"]), "workloads[0].sites", "list exactly the workers"),
        (
            lambda c: c["queueing"]["multikueue"]["workers"][0].update(
                api_server_url="https://127.0.0.1:6443"
            ),
            "queueing.multikueue.workers[0].api_server_url",
            "an address of the caller itself",
        ),
        (
            lambda c: c["queueing"]["multikueue"]["workers"][0].update(api_server_url="http://gpu-a:6443"),
            "queueing.multikueue.workers[0].api_server_url",
            "https:// address",
        ),
        (
            lambda c: c["queueing"]["multikueue"].update(manager="gpu-a"),
            "queueing.multikueue.workers[0].site",
            "cannot be its own worker",
        ),
    ],
)
def test_placement_any_is_refused_where_it_cannot_work_with_the_reason(
    change: Any, path: str, reason: str
) -> None:
    config = two_sites()
    change(config)
    found = problems(config)
    assert reason in found.get(f"lepton-infra:platform.{path}", ""), found


def test_placement_any_across_clouds_is_refused_with_its_reason() -> None:
    """A Job copied from an AWS manager to an Azure worker would name an ECR image, an S3 bucket and an
    IRSA-bound ServiceAccount that mean nothing on AKS."""
    config = copy.deepcopy(stack_config("multicloud"))
    pretrain = config["workloads"][0]
    config["sites"][1]["gpu_pools"].append({"name": "h100", "accelerator": "H100", "max_nodes": 2})
    config["teams"][0]["quotas"].append({"site": "azure-weu", "accelerator": "H100", "gpus": 16})
    pretrain.update(placement="any", sites=["azure-weu"])
    config["queueing"] = {
        "multikueue": {
            "manager": "aws-usw2",
            "workers": [{"site": "azure-weu", "api_server_url": WORKER_URL}],
        }
    }
    issues = dict(spec_issues(config))
    assert (
        "azure-weu is on azure and the manager aws-usw2 on aws"
        in issues["queueing.multikueue.workers[0].site"]
    )
    assert "`placement: any` needs sites of one cloud" in issues["queueing.multikueue.workers[0].site"]


def test_two_managed_sites_of_one_cloud_are_refused_until_they_share_registry_and_bucket() -> None:
    config = copy.deepcopy(stack_config("aws-prod"))
    second = copy.deepcopy(config["sites"][0]) | {"name": "aws-use1", "region": "us-east-1"}
    second["network"] = {"cidr": "10.31.0.0/16", "api_allowlist": []}
    config["sites"].append(second)
    config["teams"][0]["quotas"].append({"site": "aws-use1", "accelerator": "H100", "gpus": 16})
    config["workloads"][0].update(placement="any", sites=["aws-use1"])
    config["queueing"] = {
        "multikueue": {"manager": "aws-usw2", "workers": [{"site": "aws-use1", "api_server_url": WORKER_URL}]}
    }
    reasons = [m for p, m in spec_issues(config) if p == "queueing.multikueue.workers[0].site"]
    assert any("builds its own registry and bucket" in r for r in reasons), reasons
    assert any("private to its own network: the manager's cluster cannot reach it" in r for r in reasons), (
        reasons
    )


def test_each_worker_is_charged_what_it_can_give(plan: Plan) -> None:
    """The manager's quota for dispatched jobs equals what the team can reach on its workers (Kueue's
    MultiKueue concepts: less leaves workers idle, more dispatches jobs no worker admits)."""
    hub = on(plan, "hub")
    dispatch = hub.one("ClusterQueue", "ml-platform-any")
    worker = on(plan, "gpu-a").one("ClusterQueue", "ml-platform")
    pool = next(f for f in worker["spec"]["resourceGroups"][0]["flavors"] if f["name"] == "h100")
    research = on(plan, "gpu-a").one("ClusterQueue", "research")
    lent = next(f for f in research["spec"]["resourceGroups"][0]["flavors"] if f["name"] == "h100")
    assert dispatch["spec"]["resourceGroups"][0]["flavors"][0]["resources"][0]["nominalQuota"] == (
        pool["resources"][0]["nominalQuota"] + lent["resources"][0]["lendingLimit"]
    )
