"""Validate custom resources against the real CRDs vendored under ``tests/schemas/<project>/``, and chart
values against the chart's own ``values.yaml``.

A CRD's ``openAPIV3Schema`` is JSON Schema with Kubernetes extensions (``x-kubernetes-*``), which jsonschema
ignores. The API server prunes or (with strict field validation) refuses unknown fields; here every object
schema that lists its properties is closed, so a misspelled key fails. CEL rules
(``x-kubernetes-validations``) are not JSON Schema: tests check the ones they rely on by hand.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SCHEMAS = Path(__file__).resolve().parent / "schemas"


def closed(schema: Any) -> Any:
    """``schema`` with every object that lists its properties closed to others."""
    if isinstance(schema, dict):
        result = {k: closed(v) for k, v in schema.items()}
        if (
            "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            result["additionalProperties"] = False
        return result
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    return schema


@functools.cache
def crd_schema(project: str, file: str, version: str = "v1") -> dict[str, Any]:
    """The closed JSON Schema of ``version`` of the CRD in ``tests/schemas/<project>/<file>``."""
    crd = yaml.safe_load((SCHEMAS / project / file).read_text())
    (served,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    schema: dict[str, Any] = closed(served["schema"]["openAPIV3Schema"])
    # metadata is the API server's ObjectMeta, not described by the CRD.
    schema["properties"]["metadata"] = {"type": "object"}
    return schema


def validate_custom_object(obj: Mapping[str, Any], project: str, file: str) -> None:
    """Raise jsonschema.ValidationError when ``obj`` breaks the CRD's schema."""
    jsonschema.validate(dict(obj), crd_schema(project, file))


def unknown_values(
    values: Mapping[str, Any], project: str, file: str = "values.yaml", free_form: Collection[str] = ()
) -> list[str]:
    """Paths of ``values`` the chart's own values file does not have (Helm ignores them silently).
    Maps at ``free_form`` paths (a nodeSelector, annotations) take any keys."""
    upstream = yaml.safe_load((SCHEMAS / project / file).read_text())
    return list(_unknown(values, upstream, "", frozenset(free_form)))


def _unknown(
    values: Mapping[str, Any], upstream: Any, prefix: str, free_form: frozenset[str]
) -> Iterator[str]:
    for key, value in values.items():
        path = f"{prefix}.{key}" if prefix else key
        if not isinstance(upstream, dict) or key not in upstream:
            yield path
        elif path in free_form:
            continue
        elif isinstance(value, Mapping) and isinstance(upstream[key], dict) and upstream[key]:
            # An empty map upstream (annotations: {}, resources: {}) takes any keys.
            yield from _unknown(value, upstream[key], path, free_form)
