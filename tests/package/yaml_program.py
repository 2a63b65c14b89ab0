"""A Pulumi YAML program checked against the package schema: what `pulumi preview` would refuse, without it.

Every resource of the package must be one the schema has; every property one of its inputs, with a value of
the declared type (objects field by field, enums by value), every required input given, and no other
resource's output where the schema wants a plain value. Every ``${resource.property}`` of one of the package's
resources must name one of its outputs. Resources of other packages are left to their own schemas.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

REFERENCE = re.compile(r"\$\{([^}]+)\}")


def _root(reference: str) -> tuple[str, str]:
    """``res.prop[0].x`` -> (``res``, ``prop``)."""
    parts = re.split(r"[.\[]", reference, maxsplit=2)
    return parts[0], parts[1].rstrip("]") if len(parts) > 1 else ""


@dataclass
class YamlProgram:
    program: dict[str, Any]
    schema: dict[str, Any]
    package: str
    problems: list[str] = field(default_factory=list)

    def check(self) -> list[str]:
        resources = self.program.get("resources") or {}
        for name, resource in resources.items():
            token = self._token(resource["type"])
            if token is None:
                continue
            spec = self.schema["resources"].get(token)
            if spec is None:
                self.problems.append(f"{name}: {resource['type']} is not a resource of {self.package}")
                continue
            self._object(
                resource.get("properties") or {}, spec["inputProperties"], spec["requiredInputs"], name
            )
            self._options(name, resource.get("options") or {})
        for name, value in (self.program.get("outputs") or {}).items():
            self._references(value, f"outputs.{name}")
        return self.problems

    def package_resources(self) -> Iterator[tuple[str, str]]:
        for name, resource in (self.program.get("resources") or {}).items():
            token = self._token(resource["type"])
            if token is not None:
                yield name, token

    def _token(self, type_: str) -> str | None:
        parts = type_.split(":")
        if parts[0] != self.package:
            return None
        return f"{self.package}:index:{parts[-1]}" if len(parts) == 2 else type_

    def _options(self, name: str, options: dict[str, Any]) -> None:
        resources = self.program.get("resources") or {}
        for provider in options.get("providers") or []:
            root, _ = _root(REFERENCE.fullmatch(provider)[1]) if REFERENCE.fullmatch(provider) else ("", "")
            if not resources.get(root, {}).get("type", "").startswith("pulumi:providers:"):
                self.problems.append(
                    f"{name}.options.providers: {provider} is not a provider of this program"
                )
        for dependency in options.get("dependsOn") or []:
            self._references(dependency, f"{name}.options.dependsOn")

    def _object(self, value: Any, properties: dict[str, Any], required: list[str], path: str) -> None:
        if not isinstance(value, dict):
            self.problems.append(f"{path}: must be an object")
            return
        for key in sorted(set(value) - set(properties)):
            self.problems.append(
                f"{path}.{key}: not an input; the schema has {', '.join(sorted(properties))}"
            )
        for key in sorted(set(required) - set(value)):
            self.problems.append(f"{path}.{key}: required input is missing")
        for key, item in value.items():
            if key in properties:
                self._value(item, properties[key], f"{path}.{key}")

    def _value(self, value: Any, prop: dict[str, Any], path: str) -> None:
        if isinstance(value, str) and (whole := REFERENCE.fullmatch(value)):
            self._reference(whole[1], prop, path)
            return
        if isinstance(value, str) and REFERENCE.search(value):
            self._references(value, path)  # an interpolated string: whatever it names must exist
        ref = prop.get("$ref", "")
        if ref == "pulumi.json#/Any":
            return
        if ref.startswith("#/types/"):
            type_ = self.schema["types"][ref.removeprefix("#/types/")]
            if "enum" in type_:
                allowed = [e["value"] for e in type_["enum"]]
                if value not in allowed:
                    self.problems.append(f"{path}: {value!r} is not one of {allowed}")
            else:
                self._object(value, type_.get("properties") or {}, type_.get("required") or [], path)
            return
        self._typed(value, prop, path)

    def _typed(self, value: Any, prop: dict[str, Any], path: str) -> None:
        kind = prop.get("type")
        checks = {
            "string": lambda v: isinstance(v, str),
            "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            "boolean": lambda v: isinstance(v, bool),
            "array": lambda v: isinstance(v, list),
            "object": lambda v: isinstance(v, dict),
        }
        if kind in checks and not checks[kind](value):
            self.problems.append(f"{path}: {value!r} is not of type {kind}")
            return
        if kind == "array":
            for index, item in enumerate(value):
                self._value(item, prop["items"], f"{path}[{index}]")
        elif kind == "object" and "additionalProperties" in prop:
            for key, item in value.items():
                self._value(item, prop["additionalProperties"], f"{path}.{key}")

    def _reference(self, reference: str, prop: dict[str, Any], path: str) -> None:
        root, _ = _root(reference)
        variables = self.program.get("variables") or {}
        if root in (self.program.get("config") or {}):
            return  # config is known when the program runs: fit for plain inputs too
        if root in variables and "fn::invoke" not in variables[root]:
            self._value(variables[root], prop, path)  # a literal, checked where it is used
            return
        if prop.get("plain"):
            self.problems.append(
                f"{path}: ${{{reference}}} is an output, but the input must be a plain value"
            )
        self._references(f"${{{reference}}}", path)

    def _references(self, value: Any, path: str) -> None:
        """Every ``${...}`` in ``value`` names config, a variable, or a resource (and an output of ours)."""
        if isinstance(value, dict):
            for key, item in value.items():
                self._references(item, f"{path}.{key}")
            return
        if isinstance(value, list):
            for index, item in enumerate(value):
                self._references(item, f"{path}[{index}]")
            return
        if not isinstance(value, str):
            return
        resources = self.program.get("resources") or {}
        known = {*(self.program.get("config") or {}), *(self.program.get("variables") or {}), *resources}
        for reference in REFERENCE.findall(value):
            root, attribute = _root(reference)
            if root not in known:
                self.problems.append(f"{path}: ${{{reference}}} names nothing in the program")
                continue
            token = self._token(resources[root]["type"]) if root in resources else None
            if (
                token
                and attribute
                and attribute not in self.schema["resources"].get(token, {}).get("properties", {})
            ):
                self.problems.append(f"{path}: ${{{reference}}}: {attribute} is not an output of {token}")
