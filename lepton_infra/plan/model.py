"""The plan: every resource a program registers, and every policy result on it.

This is the contract format of ``lepton-infra plan --json`` (see ARCHITECTURE.md, "Plan JSON").
Inputs use the engine's camelCase property names, as ``pulumi preview --json`` shows them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from sys import intern
from typing import Any

from lepton_infra.policies.values import SECRET_PLACEHOLDER

# What a plan shows in place of a secret value: the placeholder the policy packs read as unreadable.
SECRET_MASK = SECRET_PLACEHOLDER


@dataclass(frozen=True)
class ProgramLine:
    """Where in the project's own files a resource was registered: a file relative to the project root
    and a line (1-based). A child our components create takes its top-level component's line."""

    file: str
    line: int

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line}

    @classmethod
    def from_json(cls, data: Any) -> ProgramLine | None:
        """The one place a saved plan's ``source`` is read (``shapes.check_resource`` checked its shape)."""
        return cls(str(data["file"]), int(data["line"])) if data else None


@dataclass(frozen=True)
class PlanResource:
    urn: str
    type: str
    name: str
    custom: bool
    inputs: dict[str, Any]
    parent: str | None = None
    provider: str | None = None
    protect: bool = False
    dependencies: tuple[str, ...] = ()
    outputs: dict[str, Any] = field(default_factory=dict)
    # Which resources each input came from (as `pulumi preview --json` and stack exports record it):
    # stack policies join a bucket to its encryption resource through it even when ids are unknown.
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Engine options beyond parent/provider/protect, named as the engine names them: aliases (a renamed
    # type or parent keeps its state), ignoreChanges, customTimeouts, deleteBeforeReplace, replaceOnChanges,
    # retainOnDelete.
    options: dict[str, Any] = field(default_factory=dict)
    # The program line that registered it, for a project that does not use the platform spec (whose
    # resources the stack file places instead): ``sources.locate`` falls back to it.
    source: ProgramLine | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "custom": self.custom,
            "parent": self.parent,
            "provider": self.provider,
            "protect": self.protect,
            "dependencies": list(self.dependencies),
            "inputs": self.inputs,
        }
        if self.property_dependencies:
            data["propertyDependencies"] = {k: list(v) for k, v in self.property_dependencies.items()}
        if self.options:
            data["options"] = self.options
        if self.source is not None:
            data["source"] = self.source.to_json()
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PlanResource:
        """A resource read from a saved plan, kept lean: a plan of 200 MB is held whole while checked.

        ``data``'s maps are taken as they are, never copied (the loader built them for this resource);
        a URN is one string object wherever it appears (its own, a parent, a provider, a dependency:
        half of a plan's text); empty fields share one empty map; outputs are never kept (no rule reads
        them). A saved plan is read, never changed, so nothing is shared that anything writes to.
        """
        urn = intern(str(data["urn"]))
        parent, provider = data.get("parent"), data.get("provider")
        inputs = data.get("inputs") or _NONE
        options = data.get("options") or _NONE
        links = data.get("propertyDependencies") or _NONE
        return cls(
            urn=urn,
            type=intern(str(data["type"])),
            name=str(data.get("name") or urn.rsplit("::", 1)[-1]),
            custom=bool(data.get("custom", True)),
            inputs=inputs if inputs.__class__ is dict else dict(inputs),
            parent=intern(parent) if parent else None,
            provider=intern(provider) if provider else None,
            protect=bool(data.get("protect", False)),
            dependencies=tuple(intern(u) for u in data.get("dependencies") or ()),
            outputs=_NONE,
            property_dependencies={str(k): tuple(intern(u) for u in v or ()) for k, v in links.items()}
            or _NONE,
            options=options if options.__class__ is dict else dict(options),
            source=ProgramLine.from_json(data.get("source")),
        )


# The empty map loaded resources share for absent inputs, options, outputs and property dependencies:
# an empty dict of their own per field was a tenth of a loaded plan.
_NONE: dict[str, Any] = {}


@dataclass(frozen=True)
class Violation:
    policy: str
    pack: str
    enforcement: str  # "mandatory" | "advisory" | "remediate" | "disabled"
    severity: str  # "critical" | "high" | "medium" | "low"
    urn: str | None
    message: str
    # The written reason from the pack config when this resource is exempt; exempt violations never block.
    exemption: str | None = None
    # How to fix it: the policy's remediation text (None where the finding has no rule to ask, e.g. a
    # result read back from another tool).
    fix: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "policy": self.policy,
            "pack": self.pack,
            "enforcement": self.enforcement,
            "severity": self.severity,
            "urn": self.urn,
            "message": self.message,
            "fix": self.fix,
        }
        if self.exemption is not None:
            data["exemption"] = self.exemption
        return data

    @property
    def blocks(self) -> bool:
        """Whether this result fails a run: mandatory and not exempted."""
        return self.enforcement == "mandatory" and self.exemption is None


@dataclass(frozen=True)
class StackOutputs:
    """What a stack exports (``pulumi.export``), as a stack reference reads it: the values, and the names
    of those that hold a secret (the engine's ``secretOutputNames``)."""

    values: dict[str, Any] = field(default_factory=dict)
    secret_names: frozenset[str] = frozenset()

    def to_json(self) -> dict[str, Any]:
        """The outputs as `pulumi stack output --json` shows them: secrets masked."""
        return {k: SECRET_MASK if k in self.secret_names else v for k, v in self.values.items()}


@dataclass
class Plan:
    stack: str
    resources: list[PlanResource]
    violations: list[Violation] = field(default_factory=list)
    outputs: StackOutputs = field(default_factory=StackOutputs)
    # The directory each resource's ``source.file`` is relative to: the project root, relative to the
    # root of the git repository holding it (as code scanning wants paths), or to the directory the plan
    # ran in; None where resources carry no source.
    source_root: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "stack": self.stack,
            "resources": [r.to_json() for r in self.resources],
            "violations": [v.to_json() for v in self.violations],
            "outputs": self.outputs.to_json(),
        }
        if self.source_root is not None:
            data["sourceRoot"] = self.source_root
        return data

    def custom_resources(self) -> list[PlanResource]:
        return [r for r in self.resources if r.custom]

    def of_type(self, type_token: str) -> list[PlanResource]:
        return [r for r in self.resources if r.type == type_token]
