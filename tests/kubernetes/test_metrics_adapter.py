"""prometheus-adapter on every site where an HPA follows a pods metric, with a rule the adapter can load.

The adapter (v0.12.0, chart 5.3.0) loads its rules with yaml.UnmarshalStrict into the structs of
pkg/config/config.go, so those structs' `yaml` tags are the schema a rule is held to here (vendored under
tests/schemas/prometheus-adapter with the chart's values.yaml, whose keys every value set must exist in).
Without an adapter an HPA on a pods metric never scales ("unable to get metric ... the server could not
find the requested resource", kubernetes-sigs/prometheus-adapter#164).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from manifest_helpers import Manifests
from plan_helpers import ROOT, config_plan, stack_config, stack_plan

from lepton_infra.components.handle import ClusterAddons
from lepton_infra.components.kubernetes.metrics_adapter import (
    ADAPTER_CHART_VERSION,
    PROMETHEUS_CHART_VERSION,
    metrics_adapter_services,
)
from lepton_infra.engines import adapter_metric_name

SCHEMAS = ROOT / "tests" / "schemas"
RELEASE = "kubernetes:helm.sh/v3:Release"
DIGEST = "sha256:" + "d" * 64


def _go_structs(path: Path) -> dict[str, dict[str, str]]:
    """Each struct of a Go file: its fields' yaml names mapped to their Go types."""
    structs: dict[str, dict[str, str]] = {}
    for name, body in re.findall(r"type (\w+) struct \{(.*?)\n\}", path.read_text(), re.S):
        fields = re.findall(r"^\s*\w+\s+([\w\[\]*.]+)\s+`[^`]*yaml:\"([^\",]+)", body, re.M)
        structs[name] = {key: go_type for go_type, key in fields}
    return structs


ADAPTER_CONFIG = _go_structs(SCHEMAS / "prometheus-adapter" / "config.go")


def _check(value: Any, go_type: str, where: str) -> Iterator[str]:
    """Problems of ``value`` as yaml.UnmarshalStrict would find them against ``go_type``."""
    go_type = go_type.lstrip("*")
    if go_type.startswith("[]"):
        if not isinstance(value, list):
            yield f"{where}: a list expected"
            return
        for i, item in enumerate(value):
            yield from _check(item, go_type[2:], f"{where}[{i}]")
    elif go_type.startswith("map[string]"):
        for key, item in value.items():
            yield from _check(item, go_type[len("map[string]") :], f"{where}.{key}")
    elif go_type in ADAPTER_CONFIG:
        if not isinstance(value, dict):
            yield f"{where}: a mapping expected"
            return
        fields = ADAPTER_CONFIG[go_type]
        for key, item in value.items():
            if key not in fields:
                yield f"{where}.{key}: not a field of {go_type}"
            else:
                yield from _check(item, fields[key], f"{where}.{key}")
    elif go_type == "string" and not isinstance(value, str):
        yield f"{where}: a string expected"
    elif go_type == "bool" and not isinstance(value, bool):
        yield f"{where}: a bool expected"


def _key_paths(values: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for key, value in values.items():
        if isinstance(value, Mapping) and value:
            yield from _key_paths(value, (*prefix, key))
        else:
            yield (*prefix, key)


def _has_path(values: Mapping[str, Any], path: tuple[str, ...]) -> bool:
    """Whether the chart has ``path``; below a Kubernetes security context (which the chart passes through
    whole, often documented as ``{}``) any key of that object is the API's, not the chart's."""
    node: Any = values
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return False
        if key.endswith(("securityContext", "SecurityContext")):
            return True
        node = node[key]
    return True


def _releases(plan: Any) -> dict[str, Any]:
    return {r.inputs["chart"]: r for r in plan.of_type(RELEASE)}


@pytest.mark.parametrize(
    ("stack", "metrics"),
    [("byo-containers", {"vllm_num_requests_waiting"}), ("existing-cluster", {"lepton_serve_queue_depth"})],
)
def test_an_hpa_on_a_pods_metric_gets_an_adapter_rule_serving_that_name(
    stack: str, metrics: set[str]
) -> None:
    manifests = Manifests(stack_plan(stack))
    adapter = _releases(manifests.plan)["prometheus-adapter"]
    assert adapter.inputs["version"] == ADAPTER_CHART_VERSION
    assert adapter.inputs["repositoryOpts"] == {"repo": "https://prometheus-community.github.io/helm-charts"}
    rules = adapter.inputs["values"]["rules"]
    assert rules["default"] is False
    served = {r["name"]["as"] for r in rules["custom"]}
    followed = {
        m["pods"]["metric"]["name"]
        for hpa in manifests.all("HorizontalPodAutoscaler")
        for m in hpa["spec"]["metrics"]
        if m["type"] == "Pods"
    }
    assert followed == served == metrics


def test_every_rule_loads_as_the_adapter_reads_its_config() -> None:
    for stack in ("existing-cluster", "byo-containers"):
        values = _releases(stack_plan(stack))["prometheus-adapter"].inputs["values"]
        # The chart writes rules.custom verbatim under `rules:` of the adapter's config.yaml.
        config = {"rules": values["rules"]["custom"]}
        assert list(_check(config, "MetricsDiscoveryConfig", "config")) == []
        for rule in config["rules"]:
            series = re.fullmatch(r'\{__name__="([^"]+)",namespace!="",pod!=""\}', rule["seriesQuery"])
            assert series is not None and re.fullmatch(rule["name"]["matches"], series.group(1))
            assert rule["name"]["as"] == adapter_metric_name(series.group(1))
            assert set(rule["resources"]["overrides"]) == {"namespace", "pod"}
            assert "<<.Series>>" in rule["metricsQuery"] and "<<.GroupBy>>" in rule["metricsQuery"]


def test_a_misspelled_rule_key_is_what_the_check_catches() -> None:
    bad = {"rules": [{"seriesQuery": "x", "name": {"matches": "", "as": "y"}, "metricQuery": "z"}]}
    assert list(_check(bad, "MetricsDiscoveryConfig", "config")) == [
        "config.rules[0].metricQuery: not a field of DiscoveryRule"
    ]


def test_every_adapter_value_is_a_key_of_the_pinned_chart(byo: Manifests) -> None:
    chart = yaml.safe_load((SCHEMAS / "prometheus-adapter" / "chart-values.yaml").read_text())
    values = _releases(byo.plan)["prometheus-adapter"].inputs["values"]
    for path in _key_paths({k: v for k, v in values.items() if k != "rules"}):
        assert _has_path(chart, path), path
    assert "custom" in chart["rules"] and "default" in chart["rules"]


def test_where_the_prometheus_operator_runs_the_adapter_reads_its_prometheus(byo: Manifests) -> None:
    values = _releases(byo.plan)["prometheus-adapter"].inputs["values"]
    # The operator's governing Service for every Prometheus in the namespace.
    assert values["prometheus"] == {"url": "http://prometheus-operated.monitoring.svc:9090", "port": ""}
    assert "prometheus" not in _releases(byo.plan)


def _aws_dev_with_vllm() -> dict[str, Any]:
    platform = copy.deepcopy(stack_config("aws-dev"))
    serve = next(w for w in platform["workloads"] if w["name"] == "serve")
    serve["server"] = {"kind": "vllm", "stager_image": {"repository": "lepton/stage", "digest": DIGEST}}
    return platform


def test_a_site_without_prometheus_gets_one_for_the_adapter_valid_for_its_chart() -> None:
    plan = config_plan(_aws_dev_with_vllm())
    releases = _releases(plan)
    prometheus, adapter = releases["prometheus"], releases["prometheus-adapter"]
    assert prometheus.inputs["version"] == PROMETHEUS_CHART_VERSION
    assert adapter.inputs["values"]["prometheus"]["url"] == "http://prometheus-server.monitoring.svc:80"
    values = prometheus.inputs["values"]
    schema = json.loads((SCHEMAS / "prometheus" / "values.schema.json").read_text())
    # The chart's `$schema` is the draft-less "http://json-schema.org/schema#", which jsonschema does not
    # know (it warns and guesses). Helm validates values with santhosh-tekuri/jsonschema (helm
    # pkg/chart/common/util/jsonschema.go), whose findDraft reads that URI as its latest draft, 2020-12
    # (santhosh-tekuri/jsonschema draft.go): validate as Helm does.
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(values)
    chart = yaml.safe_load((SCHEMAS / "prometheus" / "values.yaml").read_text())
    for path in _key_paths(values):
        assert _has_path(chart, path), path
    # It scrapes pods by the annotations our pods carry where no operator runs.
    assert chart["scrapeConfigs"]["kubernetes-pods"]["enabled"] is True
    deployment = Manifests(plan).one("Deployment", "serve")
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true" and annotations["prometheus.io/path"] == "/metrics"
    # The adapter waits for the Prometheus it reads.
    assert prometheus.urn in adapter.dependencies


def test_the_installed_prometheus_runs_under_the_restricted_profile() -> None:
    values = _releases(config_plan(_aws_dev_with_vllm()))["prometheus"].inputs["values"]
    for container in (
        values["server"]["containerSecurityContext"],
        values["configmapReload"]["prometheus"]["containerSecurityContext"],
    ):
        assert container["allowPrivilegeEscalation"] is False
        assert container["capabilities"] == {"drop": ["ALL"]}
        assert container["seccompProfile"] == {"type": "RuntimeDefault"}
    assert values["server"]["securityContext"]["runAsNonRoot"] is True


def test_a_site_names_its_own_prometheus_and_no_adapter_comes_without_a_pods_metric() -> None:
    from lepton_infra.blueprint import PlatformSpec

    spec = PlatformSpec.model_validate(stack_config("byo-containers"))
    url = "http://thanos-query.observability.svc:9090"
    [adapter] = metrics_adapter_services(spec.workloads, ClusterAddons(prometheus_url=url))
    assert adapter.chart is not None and adapter.chart.values["prometheus"]["url"] == url
    cpu_only = [w for w in spec.workloads if w.kind == "training"]
    assert metrics_adapter_services(cpu_only, ClusterAddons()) == ()
    assert "prometheus-adapter" not in _releases(stack_plan("aws-dev"))


@pytest.mark.parametrize("series", ["vllm:num_requests_waiting", "lepton_serve_queue_depth"])
def test_adapter_names_are_valid_path_segments(series: str) -> None:
    assert re.fullmatch(r"[a-z0-9_]+", adapter_metric_name(series))
