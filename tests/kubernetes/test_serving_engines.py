"""Each server's pod as its engine documents it for the pinned version: port, flags, probes, metrics, HPA.

vLLM 0.32.0, read from its documentation and its own code (the released wheel, vllm-0.32.0 on PyPI):
- metrics: https://docs.vllm.ai/en/v0.32.0/usage/metrics/ (generated from vllm/v1/metrics/loggers.py):
  vllm:num_requests_waiting (Gauge), vllm:e2e_request_latency_seconds (Histogram), vllm:request_success
  (Counter, label finished_reason; "error" is always a 500, vllm/v1/engine/__init__.py FinishReason);
- GET /health: vllm/entrypoints/serve/instrumentator/health.py (200, 503 once the engine is dead);
  GET /metrics: vllm/entrypoints/serve/instrumentator/metrics.py;
- flags: vllm/engine/arg_utils.py (--served-model-name, --tensor-parallel-size, --shutdown-timeout, whose
  default 0 aborts in-flight requests at SIGTERM: vllm/config/vllm.py), the `vllm serve [model_tag]` CLI
  (vllm/entrypoints/cli/serve.py), --port (default 8000, vllm/entrypoints/launchers/cli_args.py).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from manifest_helpers import Manifests, env_of, main_container, pod_spec
from plan_helpers import config_plan, spec_issues, stack_config

from lepton_infra.components.kubernetes.alerts import serving_rules
from lepton_infra.engines import LEPTON, VLLM, VLLM_VERSION, adapter_metric_name

# Metric names of older vLLM releases that 0.32.0 no longer exports: alerts on them would never fire.
RENAMED_IN_VLLM = ("vllm:gpu_cache_usage_perc", "vllm:time_per_output_token_seconds")
DIGEST = "sha256:" + "c" * 64


def _deployment(byo: Manifests) -> dict[str, Any]:
    return byo.one("Deployment", "chat")


def test_vllm_serves_the_staged_export_on_the_workload_port_with_one_tp_rank_per_gpu(
    byo: Manifests,
) -> None:
    container = main_container(_deployment(byo))
    assert container["command"] == ["vllm", "serve"]
    args = container["args"]
    assert args[0] == "/models/current" == env_of(container)["LEPTON_MODEL_DIR"]["value"]
    flags = dict(zip(args[1::2], args[2::2], strict=False))
    assert flags["--served-model-name"] == "lepton-pretrain"
    assert flags["--port"] == "8080" == str(container["ports"][0]["containerPort"])
    assert flags["--tensor-parallel-size"] == container["resources"]["limits"]["nvidia.com/gpu"] == "2"
    assert args[-2:] == ["--max-model-len", "1024"]  # the spec's extra flags come last


def test_vllm_drains_in_flight_requests_within_the_grace_period(byo: Manifests) -> None:
    deployment = _deployment(byo)
    container = main_container(deployment)
    args = container["args"]
    drain = int(args[args.index("--shutdown-timeout") + 1])
    grace = pod_spec(deployment)["terminationGracePeriodSeconds"]
    pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    # vLLM's default (0) aborts every request still running at SIGTERM.
    assert drain > 0 and pre_stop + drain < grace


def test_vllm_probes_its_health_endpoint_with_time_to_load_and_compile(byo: Manifests) -> None:
    container = main_container(_deployment(byo))
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/health", "port": "http"}
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 1200


def test_vllm_scales_on_its_waiting_queue_through_the_adapter(byo: Manifests) -> None:
    hpa = byo.one("HorizontalPodAutoscaler", "chat")
    [metric] = hpa["spec"]["metrics"]
    assert metric["type"] == "Pods"
    assert metric["pods"]["metric"]["name"] == adapter_metric_name("vllm:num_requests_waiting")
    assert metric["pods"]["target"] == {"type": "AverageValue", "averageValue": "4"}


def test_vllm_alerts_read_the_pinned_versions_metric_names(byo: Manifests) -> None:
    rules = byo.one("PrometheusRule", "chat-alerts")["spec"]["groups"][0]["rules"]
    exprs = {r["alert"]: r["expr"] for r in rules}
    assert "vllm:e2e_request_latency_seconds_bucket{" in exprs["InferenceLatencyHigh"]
    assert (
        'vllm:request_success_total{namespace="ml", service="chat", finished_reason="error"}'
        in (exprs["InferenceErrorRateHigh"])
    )
    assert not any(old in expr for old in RENAMED_IN_VLLM for expr in exprs.values())
    assert VLLM.version == VLLM_VERSION == "0.32.0"
    monitor = byo.one("ServiceMonitor", "chat")
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"


def test_vllm_writes_only_to_emptydirs_and_keeps_the_restricted_profile(byo: Manifests) -> None:
    spec = pod_spec(_deployment(byo))
    container = main_container(_deployment(byo))
    volumes = {v["name"]: v for v in spec["volumes"]}
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert volumes["model"]["emptyDir"] == {"sizeLimit": "20Gi"}
    assert mounts["/models"]["readOnly"] is True
    assert volumes["cache"]["emptyDir"]["sizeLimit"] == "20Gi" and "/cache" in mounts
    assert volumes["dshm"]["emptyDir"]["medium"] == "Memory" and "/dev/shm" in mounts
    env = env_of(container)
    assert all(env[n]["value"].startswith("/cache") for n in ("XDG_CACHE_HOME", "VLLM_CACHE_ROOT", "HF_HOME"))
    assert env["VLLM_NO_USAGE_STATS"]["value"] == "1" and env["HF_HUB_OFFLINE"]["value"] == "1"
    # UID 10001 has no passwd entry in vLLM's image (llm-d/llm-d-benchmark#1573, vllm-project/vllm#46734).
    assert env["USER"]["value"]
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True and security["privileged"] is False
    assert security["capabilities"] == {"drop": ["ALL"]} and security["allowPrivilegeEscalation"] is False
    assert not any("hostPath" in v for v in spec["volumes"])


def test_the_stager_copies_the_export_first_under_the_workload_identity(byo: Manifests) -> None:
    spec = pod_spec(_deployment(byo))
    [stager] = spec["initContainers"]
    assert stager["command"] == ["python", "-m", "stager"]
    assert stager["args"] == ["--source", "$(CHECKPOINT_DIR)", "--destination", "/models/current"]
    assert stager["image"].endswith(
        "/lepton/stage:0.1.0@sha256:73dc4b6aca775f0603559b5d01e9b826e19b36373344edb007a53a3c35eae082"
    )
    assert env_of(stager)["CHECKPOINT_DIR"]["value"] == "/checkpoints"
    mounts = {m["mountPath"]: m for m in stager["volumeMounts"]}
    assert "readOnly" not in mounts["/models"] and mounts["/checkpoints"]["readOnly"] is True
    assert stager["securityContext"] == main_container(_deployment(byo))["securityContext"]
    # The pod's ServiceAccount, bound to the workload's identity: init containers run under it too.
    assert spec["serviceAccountName"] == "chat"
    assert "nvidia.com/gpu" not in stager["resources"]["limits"]


def _with_server(server: dict[str, Any], **workload: Any) -> dict[str, Any]:
    platform = copy.deepcopy(stack_config("existing-cluster"))
    serve = next(w for w in platform["workloads"] if w["name"] == "serve")
    serve.update(server=server, **workload)
    return platform


def test_a_custom_server_is_probed_and_scraped_where_it_says() -> None:
    server = {
        "kind": "custom",
        "command": ["python", "-m", "sglang.launch_server"],
        "args": ["--model-path", "$(CHECKPOINT_DIR)", "--port", "8080"],
        "health_path": "/health",
        "readiness_path": "/health_generate",
        "metrics_path": "/metrics",
        "env": {"SGLANG_LOG": "info"},
    }
    plan = config_plan(_with_server(server))
    deployment = Manifests(plan).one("Deployment", "serve")
    container = main_container(deployment)
    assert container["command"] == ["python", "-m", "sglang.launch_server"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health_generate"
    assert env_of(container)["SGLANG_LOG"]["value"] == "info"
    assert "initContainers" not in pod_spec(deployment)
    # Alerts need the server's own series, which the platform does not know for a custom server.
    assert [o for o in Manifests(plan).all("PrometheusRule") if o["metadata"]["name"] == "serve-alerts"] == []


def test_our_server_keeps_its_paths_metrics_and_alerts_by_default(onprem: Manifests) -> None:
    container = main_container(onprem.one("Deployment", "serve"))
    assert container["readinessProbe"]["httpGet"]["path"] == LEPTON.ready_path == "/readyz"
    assert "initContainers" not in pod_spec(onprem.one("Deployment", "serve"))
    rules = onprem.one("PrometheusRule", "serve-alerts")["spec"]["groups"][0]["rules"]
    assert "lepton_serve_request_duration_seconds_bucket" in rules[0]["expr"]


@pytest.mark.parametrize(
    ("server", "path"),
    [
        (
            {
                "kind": "vllm",
                "stager_image": {"repository": "lepton/stage", "digest": DIGEST},
                "extra_args": ["--port=9000"],
            },
            "extra_args[0]",
        ),
        (
            {
                "kind": "vllm",
                "stager_image": {"repository": "lepton/stage", "digest": DIGEST},
                "extra_args": ["--tensor-parallel-size", "8"],
            },
            "extra_args[0]",
        ),
        (
            {
                "kind": "vllm",
                "stager_image": {"repository": "lepton/stage", "digest": DIGEST},
                "env": {"CHECKPOINT_DIR": "/elsewhere"},
            },
            "env.CHECKPOINT_DIR",
        ),
        (
            {
                "kind": "vllm",
                "version": "0.9.1",
                "stager_image": {"repository": "lepton/stage", "digest": DIGEST},
            },
            "version",
        ),
        (
            {"kind": "custom", "command": ["srv"], "health_path": "/h", "env": {"LEPTON_MODEL_DIR": "/x"}},
            "env.LEPTON_MODEL_DIR",
        ),
        ({"kind": "custom", "command": ["srv"]}, "health_path"),
    ],
)
def test_what_the_platform_sets_or_does_not_know_is_refused_naming_the_field(
    server: dict[str, Any], path: str
) -> None:
    issues = spec_issues(_with_server(server))
    assert any(path in field for field, _ in issues), issues


def test_alert_rules_take_each_engines_series() -> None:
    from lepton_infra.blueprint.workloads import InferenceWorkloadSpec

    workload = InferenceWorkloadSpec.model_validate(
        {
            "kind": "inference",
            "name": "s",
            "accelerator": "L4",
            "sites": ["x"],
            "image": {"repository": "a/b", "digest": DIGEST},
        }
    )
    ours = " ".join(r.expr for r in serving_rules(workload))
    theirs = " ".join(r.expr for r in serving_rules(workload, VLLM.metrics))
    assert "lepton_serve_requests_total" in ours and 'status=~"5.."' in ours
    assert "vllm:request_success_total" in theirs and "lepton_" not in theirs
