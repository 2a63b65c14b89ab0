"""Kueue objects checked against Kueue's own CRDs (v0.19.2, vendored under tests/schemas/kueue).

Two layers, as the API server applies them: the version's ``openAPIV3Schema`` (strict: an unknown field is
refused, as with kubectl's default server-side field validation; patterns in Go's RE2 syntax, through
google-re2), then every ``x-kubernetes-validations``
CEL rule of the schema, evaluated with cel-python on the node it sits on. Transition rules (those reading
``oldSelf``) only apply to updates and are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import celpy
import jsonschema
import re2
import yaml
from crd_schemas import closed
from jsonschema.exceptions import ValidationError

SCHEMAS = Path(__file__).parent / "schemas" / "kueue"
GROUP = "kueue.x-k8s.io"
VERSION = "v1beta2"


@cache
def crds() -> dict[str, dict[str, Any]]:
    """Kind → the v1beta2 openAPIV3Schema of every vendored Kueue CRD."""
    found = {}
    for path in SCHEMAS.glob(f"{GROUP}_*.yaml"):
        crd = yaml.safe_load(path.read_text())
        version = next(v for v in crd["spec"]["versions"] if v["name"] == VERSION)
        found[crd["spec"]["names"]["kind"]] = version["schema"]["openAPIV3Schema"]
    return found


def _rules(schema: dict[str, Any], value: Any) -> Iterator[tuple[str, str, Any]]:
    """(rule, message, the value it judges) for every CEL rule that applies to ``value``."""
    for rule in schema.get("x-kubernetes-validations", []):
        if "oldSelf" not in rule["rule"]:
            yield rule["rule"], rule.get("message", rule["rule"]), value
    if isinstance(value, dict):
        for key, child in value.items():
            if key in schema.get("properties", {}):
                yield from _rules(schema["properties"][key], child)
    elif isinstance(value, list) and "items" in schema:
        for child in value:
            yield from _rules(schema["items"], child)


_ENV = celpy.Environment()


def _re2_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    """`pattern` as the API server reads it: Go's RE2 syntax (e.g. `^(?i)...`, which Python's re refuses)."""
    if validator.is_type(instance, "string") and not re2.search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_Validator = jsonschema.validators.extend(jsonschema.Draft7Validator, {"pattern": _re2_pattern})


def kueue_errors(obj: dict[str, Any]) -> list[str]:
    """Why the API server would refuse ``obj``; empty when its CRD accepts it."""
    api_version = obj.get("apiVersion")
    if api_version != f"{GROUP}/{VERSION}":
        return [f"apiVersion {api_version!r} is not {GROUP}/{VERSION}"]
    schema = crds().get(obj.get("kind", ""))
    if schema is None:
        return [f"no vendored CRD for kind {obj.get('kind')!r}"]
    validator = _Validator(closed(schema))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(obj)]
    for rule, message, value in _rules(schema, obj):
        program = _ENV.program(_ENV.compile(rule))
        result = program.evaluate({"self": celpy.json_to_cel(value)})
        if not (isinstance(result, celpy.celtypes.BoolType) and bool(result)):
            errors.append(f"CEL rule failed: {message}")
    return errors
