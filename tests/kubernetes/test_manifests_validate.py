"""Every Kubernetes object of every example stack validates against the real Kubernetes schema.

Built-in kinds: kubernetes-validate, strict (unknown fields refused), at the oldest and newest Kubernetes
version the library supports. Kueue kinds: Kueue's own v0.19.2 CRDs (tests/schemas/kueue), schema and CEL
rules. Prometheus Operator kinds: no CRD schema ships with our dependencies, so they
are checked against the subset of monitoring.coreos.com/v1 we emit (closed objects: a misspelled key fails),
transcribed from the operator's CRDs; full CRD validation is left to the cluster's API server. Kinds
whose CRD is copied under tests/schemas/ (Karpenter's NodePool and EC2NodeClass, the Network Operator's
NicClusterPolicy ...) validate against it, closed (crd_schemas.py): an unknown key fails.
Helm releases are not Kubernetes objects and are not written (see ``test_helm_releases_are_not_objects``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from crd_schemas import closed
from kueue_schema import GROUP as KUEUE_GROUP
from kueue_schema import kueue_errors
from plan_helpers import KUBERNETES_STACKS, ROOT, stack_plan

from lepton_infra.blueprint import SUPPORTED_KUBERNETES_VERSIONS
from lepton_infra.plan.manifests import write_manifests

VERSIONS = (SUPPORTED_KUBERNETES_VERSIONS[0], SUPPORTED_KUBERNETES_VERSIONS[-1])

_DURATION = {"type": "string", "pattern": r"^(0|(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?)$"}
_STRINGS = {"type": "object", "additionalProperties": {"type": "string"}}
_METADATA = {
    "type": "object",
    "required": ["name", "namespace"],
    "properties": {"name": {"type": "string"}, "namespace": {"type": "string"}, "labels": _STRINGS},
    "additionalProperties": False,
}


def _closed(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties, "additionalProperties": False}


CRD_SCHEMAS: dict[str, dict[str, Any]] = {
    "ServiceMonitor": _closed(
        ["apiVersion", "kind", "metadata", "spec"],
        apiVersion={"const": "monitoring.coreos.com/v1"},
        kind={"const": "ServiceMonitor"},
        metadata=_METADATA,
        spec=_closed(
            ["selector", "endpoints"],
            selector=_closed(["matchLabels"], matchLabels=_STRINGS),
            endpoints={
                "type": "array",
                "items": _closed(
                    ["port"], port={"type": "string"}, path={"type": "string"}, interval=_DURATION
                ),
            },
        ),
    ),
    "PrometheusRule": _closed(
        ["apiVersion", "kind", "metadata", "spec"],
        apiVersion={"const": "monitoring.coreos.com/v1"},
        kind={"const": "PrometheusRule"},
        metadata=_METADATA,
        spec=_closed(
            ["groups"],
            groups={
                "type": "array",
                "items": _closed(
                    ["name", "rules"],
                    name={"type": "string", "minLength": 1},
                    rules={
                        "type": "array",
                        "items": _closed(
                            ["expr"],
                            alert={"type": "string"},
                            expr={"type": "string"},
                            labels=_STRINGS,
                            annotations=_STRINGS,
                            **{"for": _DURATION},
                        ),
                    },
                ),
            },
        ),
    ),
}


def vendored_crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) → the object schema of each upstream CRD copied under tests/schemas/."""
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    for path in (ROOT / "tests" / "schemas").glob("*/*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            for version in spec["versions"]:
                api_version = f"{spec['group']}/{version['name']}"
                schemas[(api_version, spec["names"]["kind"])] = version["schema"]["openAPIV3Schema"]
    return schemas


VENDORED_CRDS = vendored_crd_schemas()


@pytest.fixture(scope="module", params=KUBERNETES_STACKS)
def written(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_manifests(stack_plan(request.param), tmp_path_factory.mktemp(request.param))


def documents(paths: list[Path]) -> list[dict[str, Any]]:
    return [doc for path in paths for doc in yaml.safe_load_all(path.read_text())]


def test_every_object_validates_against_the_kubernetes_schema(written: list[Path]) -> None:
    objects = documents(written)
    assert objects
    for obj in objects:
        where = f"{obj['kind']} {obj['metadata']['name']}"
        if obj["kind"] in CRD_SCHEMAS:
            jsonschema.validate(obj, CRD_SCHEMAS[obj["kind"]])
            continue
        if obj["apiVersion"].startswith(f"{KUEUE_GROUP}/"):
            assert kueue_errors(obj) == [], where  # Kueue's own CRDs, schema and CEL rules
            continue
        if (obj["apiVersion"], obj["kind"]) in VENDORED_CRDS:
            # Closed (crd_schemas.closed): a misspelled key fails, as strict field validation would.
            jsonschema.validate(obj, closed(VENDORED_CRDS[(obj["apiVersion"], obj["kind"])]))
            continue
        for version in VERSIONS:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                pytest.fail(
                    f"{where} is invalid for Kubernetes {version}: {error.message} at {list(error.path)}"
                )


def test_one_file_per_site_and_one_object_per_document(written: list[Path]) -> None:
    for path in written:
        assert path.name.endswith("-k8s.yaml")
        for doc in yaml.safe_load_all(path.read_text()):
            assert {"apiVersion", "kind", "metadata"} <= set(doc)


def test_integers_are_written_as_integers(tmp_path: Path) -> None:
    [path] = write_manifests(stack_plan("existing-cluster"), tmp_path)
    text = path.read_text()
    job = next(
        d for d in yaml.safe_load_all(text) if d["kind"] == "Job" and d["metadata"]["name"] == "pretrain"
    )
    assert job["spec"]["completions"] == 2 and isinstance(job["spec"]["completions"], int)
    # No number written as a float (`completions: 2.0`); an image tag such as v0.32.0 is no number.
    assert not re.search(r"(:|-) \d+\.0$", text, re.M)


def test_namespaces_come_first_and_custom_resources_last(tmp_path: Path) -> None:
    [path] = write_manifests(stack_plan("existing-cluster"), tmp_path)
    kinds = [d["kind"] for d in yaml.safe_load_all(path.read_text())]
    assert kinds[0] == "Namespace"
    assert kinds.index("PrometheusRule") > kinds.index("Deployment")


def test_helm_releases_are_not_objects(tmp_path: Path) -> None:
    plan = stack_plan("existing-cluster")
    assert plan.of_type("kubernetes:helm.sh/v3:Release")
    objects = documents(write_manifests(plan, tmp_path))
    assert all(o["apiVersion"] != "helm.sh/v3" for o in objects)
