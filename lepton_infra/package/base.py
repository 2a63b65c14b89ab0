"""PackageComponent: what every component of the multi-language package shares.

Pulumi's analyzer reads this module's annotations (the base class's are part of every component's MRO), so it
must not use ``from __future__ import annotations``: the analyzer does not evaluate string annotations.
"""

import inspect
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import pulumi

from lepton_infra.package import PACKAGE_NAME
from lepton_infra.package.inputs import checked, fields_of, refusing


class PackageComponent(pulumi.ComponentResource):
    """A component of the package: a thin layer over one of ours, with inputs checked the same way whether a
    program in another language constructs it over gRPC or a Python program calls it directly.

    A subclass declares its inputs as the TypedDict of its ``__init__``'s ``args`` and its outputs as class
    annotations (each with an attribute docstring: the schema's descriptions), and says how its checked inputs
    become what the component underneath takes: ``_args`` (our Args class they mirror, given them as
    keywords) or its own ``build``."""

    _args: ClassVar[Callable[..., Any] | None] = None
    # Fields of ``_args`` the package does not offer, each with its reason where it is set.
    _left_out: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def token(cls) -> str:
        """The type token the provider host accepts: ``lepton-infra:index:<Class>``."""
        return f"{PACKAGE_NAME}:index:{cls.__name__}"

    @classmethod
    def prepare(cls, args: Mapping[str, Any], *, schema_names: bool = False) -> Any:
        """The inputs checked and built, or ``InputPropertiesError`` naming every property that is wrong.

        ``schema_names``: ``args`` is keyed as the schema spells it (camelCase), as Construct receives it."""
        declared = inspect.get_annotations(cls.__init__)["args"]
        values = checked(args, declared, schema_names=schema_names)
        with refusing(fields=fields_of(declared)):
            return cls.build(values)

    @classmethod
    def build(cls, values: dict[str, Any]) -> Any:
        """What the component underneath takes, from checked inputs (keys are our Args' field names)."""
        if cls._args is None:
            return values
        return cls._args(**values)

    def start(self, name: str, opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
        """Register this component; the options its children take (they inherit its providers)."""
        pulumi.ComponentResource.__init__(self, self.token(), name, {}, opts)
        return pulumi.ResourceOptions(parent=self)

    def publish(self, source: object) -> None:
        """Take each output this class declares from ``source``'s attribute of that name; register them."""
        outputs = {name: getattr(source, name) for name in fields_of(type(self))}
        for name, value in outputs.items():
            setattr(self, name, value)
        self.register_outputs(outputs)
