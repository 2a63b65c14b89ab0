"""The package's provider: Pulumi's component provider, with every component's inputs checked before it runs.

Pulumi's ``ComponentProvider`` infers the schema from the components' annotations and constructs them over
gRPC. It wraps whatever a component's ``__init__`` raises into a generic error with a stack trace, so inputs
are checked here, where it maps them (before the component runs): a bad input reaches the engine as
``InputPropertiesError``, each problem against its property, with no traceback.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Sequence
from typing import Any

import pulumi
from pulumi.provider import main
from pulumi.provider.experimental.analyzer import ComponentDefinition, PropertyDefinition
from pulumi.provider.experimental.component import ComponentProvider

from lepton_infra.package import PACKAGE_NAME, component_classes, package_version
from lepton_infra.package.base import PackageComponent
from lepton_infra.package.inputs import invalid

# The SDK reads an object input field by field only when it arrives as an object. It arrives as one opaque
# value when it is another resource's output, or when a value inside it was sent as a plain secret: the SDK
# then marks the whole object secret (pulumi/runtime/rpc.py, deserialize_property) and its provider host
# would report every field of it missing (provider/experimental/component.py, map_input_properties).
OPAQUE_OBJECT = (
    "arrived as one secret or unknown value, not an object: keep secrets out of object inputs (a component "
    "takes its kubeconfig as an input of its own) and build the object in the program, not from an output"
)


class PackageProvider(ComponentProvider):
    """The provider of every component of the package."""

    def __init__(self, components: Sequence[type[pulumi.ComponentResource]], version: str) -> None:
        self.checks = {c.__name__: c for c in components if issubclass(c, PackageComponent)}
        super().__init__(list(components), PACKAGE_NAME, None, version)
        self.schema = json.dumps(unwrapped(json.loads(self.schema or "{}")))

    def map_inputs(self, inputs: pulumi.Inputs, component_def: ComponentDefinition) -> pulumi.Inputs:
        opaque = [
            name
            for name, prop in component_def.inputs.items()
            if isinstance(inputs.get(name), pulumi.Output) and self._holds_objects(prop)
        ]
        if opaque:
            raise invalid([([name], OPAQUE_OBJECT) for name in opaque])
        component = self.checks[component_def.name]
        # Checked as they arrive, before the SDK maps them: it reports a bad number against the wrong path.
        component.prepare(inputs, schema_names=True)
        return super().map_inputs(inputs, component_def)

    def _holds_objects(self, prop: PropertyDefinition) -> bool:
        """Whether ``prop`` is an object type of ours, or a list or map of them (not an enum)."""
        for ref in (
            prop.ref,
            prop.items and prop.items.ref,
            prop.additional_properties and prop.additional_properties.ref,
        ):
            if ref and ref.startswith("#/types/"):
                type_def = self.get_type_definition(PropertyDefinition(ref=ref))
                if type_def is not None and not type_def.enum:
                    return True
        return False


def unwrapped(schema: object) -> object:
    """``schema`` with every description as Markdown wants it: docstrings are wrapped and indented to fit our
    source lines; the analyzer copies them as they are, so each paragraph is joined back into one line."""
    if isinstance(schema, dict):
        return {
            key: _paragraphs(value) if key == "description" and isinstance(value, str) else unwrapped(value)
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [unwrapped(item) for item in schema]
    return schema


def _paragraphs(text: str) -> str:
    paragraphs = re.split(r"\n\s*\n", inspect.cleandoc(text))
    return "\n\n".join(" ".join(line.strip() for line in p.splitlines()) for p in paragraphs)


def package_provider() -> PackageProvider:
    return PackageProvider(component_classes(), package_version())


def package_schema() -> dict[str, Any]:
    """The package schema, as the provider hands it to ``pulumi package add`` (GetSchema)."""
    schema: dict[str, Any] = json.loads(package_provider().schema or "{}")
    return schema


def serve(args: Sequence[str]) -> None:
    """Run the provider as a plugin: print its port, serve until the engine stops it."""
    main(package_provider(), list(args))
