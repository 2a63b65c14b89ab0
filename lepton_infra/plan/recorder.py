"""A mock monitor that records every RegisterResource: the whole plan, as the engine would see it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi

from lepton_infra.plan import pulumi_sdk
from lepton_infra.plan.fakes import REGION_INPUTS
from lepton_infra.plan.mocks import STACK_REFERENCE, PlanMocks
from lepton_infra.plan.model import SECRET_MASK, PlanResource, ProgramLine, StackOutputs

_STACK_TYPE = "pulumi:pulumi:Stack"


class RecordingMonitor(pulumi_sdk.MockMonitor):
    """Records type, name, URN, parent, provider, protect, dependencies and inputs of each resource.

    URNs follow the engine's format: the parent type chain without the root stack's type.
    """

    def __init__(
        self,
        mocks: PlanMocks,
        on_record: Callable[[int], None] | None = None,
        source_root: Path | None = None,
    ) -> None:
        super().__init__(mocks)
        self.plan_mocks = mocks
        self.recorded: list[PlanResource] = []
        # Told the number of resources recorded so far, after each one (a progress display).
        self._on_record = on_record
        # What the program exports (`pulumi.export`): the root stack's registered outputs.
        self.outputs = StackOutputs()
        self._stack_urn: str | None = None
        # The project whose files each resource's ``source`` names (None: record no sources), and the
        # source of each resource recorded so far, which a child without a position of its own inherits.
        self._source_root = source_root.resolve() if source_root is not None else None
        self._sources: dict[str, ProgramLine] = {}

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        if parent and f"::{_STACK_TYPE}::" not in parent:
            type_ = parent.split("::")[2] + "$" + type_
        return "urn:pulumi:" + "::".join([pulumi.get_stack(), pulumi.get_project(), type_, name])

    def _source(self, request: Any, urn: str) -> ProgramLine | None:
        """The project line that registered this resource, or else its parent's: a resource created on the
        event loop (inside an ``apply`` of our components) has no frame in the project of its own."""
        if self._source_root is None:
            return None
        position = pulumi_sdk.source_position(request)
        source = None
        if position is not None and position[0].is_relative_to(self._source_root):
            source = ProgramLine(position[0].relative_to(self._source_root).as_posix(), position[1])
        elif request.parent:
            source = self._sources.get(request.parent)
        if source is not None:
            self._sources[urn] = source
        return source

    def _record(self, resource: PlanResource) -> None:
        self.recorded.append(resource)
        if self._on_record is not None:
            self._on_record(len(self.recorded))

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == _STACK_TYPE:
            self._stack_urn = urn
            self._record(PlanResource(urn=urn, type=request.type, name=request.name, custom=False, inputs={}))
            return pulumi_sdk.register_response(urn)

        wire_inputs = pulumi_sdk.request_inputs(request)
        inputs = plain(wire_inputs)
        provider = request.provider or None
        if request.custom:
            identifier, outputs = self.plan_mocks.fake(request.type, request.name, inputs, provider)
        else:
            identifier, outputs = "", {}
        if request.type in REGION_INPUTS:
            self.plan_mocks.regions[f"{urn}::{identifier}"] = str(inputs.get(REGION_INPUTS[request.type], ""))

        state = {**wire_inputs, **outputs}
        pulumi_sdk.remember(self, urn, identifier, state)
        self._record(
            PlanResource(
                urn=urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                inputs=inputs,
                parent=request.parent or None,
                provider=provider,
                protect=bool(request.protect),
                dependencies=tuple(sorted(request.dependencies)),
                property_dependencies={
                    name: tuple(sorted(urns.urns))
                    for name, urns in request.propertyDependencies.items()
                    if urns.urns
                },
                outputs={"id": identifier, **plain(outputs)} if request.custom else {},
                options=_options(request),
                source=self._source(request, urn),
            )
        )
        return pulumi_sdk.register_response(urn, identifier, state)

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn == self._stack_urn:
            self.outputs = stack_outputs(pulumi_sdk.properties(request.outputs))
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]

    def ReadResource(self, request: Any) -> Any:
        """A read (a stack reference) is a step of the plan too, as `pulumi preview` shows it."""
        response = super().ReadResource(request)  # type: ignore[no-untyped-call]
        inputs = plain(pulumi_sdk.properties(request.properties))
        state = pulumi_sdk.properties(response.properties)
        if request.type == STACK_REFERENCE:
            # The engine marks the whole `outputs` secret when one output is: show which one it is.
            exported = stack_outputs(pulumi_sdk.reveal_secrets(state.get("outputs", {}))[0])
            names = frozenset(state.get("secretOutputNames") or ())
            state["outputs"] = StackOutputs(exported.values, names).to_json()
        outputs = plain(state)
        self._record(
            PlanResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=True,
                inputs={"name": inputs.get("name", request.id)}
                if request.type == STACK_REFERENCE
                else inputs,
                parent=request.parent or None,
                provider=request.provider or None,
                outputs={"id": request.id, **outputs},
                options={"external": True},
                source=self._source(request, response.urn),
            )
        )
        return response


def stack_outputs(wire: dict[str, Any]) -> StackOutputs:
    """Exported values with their secrets revealed (whole numbers as ints, as they were written), and the
    names of the outputs that held a secret."""
    values: dict[str, Any] = {}
    secrets: set[str] = set()
    for name, value in wire.items():
        revealed, secret = pulumi_sdk.reveal_secrets(value)
        values[name] = plain(revealed)
        if secret:
            secrets.add(name)
    return StackOutputs(values, frozenset(secrets))


def _options(request: Any) -> dict[str, Any]:
    """The resource options a reviewer needs beside the inputs (what the engine will wait on or ignore)."""
    options: dict[str, Any] = {}
    # A provider SDK gives its own resources an alias per API version it ever had: noise in a plan. A
    # component's aliases are ours, kept when we renamed its type.
    if request.aliases and not request.custom:
        options["aliases"] = [_alias(alias) for alias in request.aliases]
    if request.ignoreChanges:
        options["ignoreChanges"] = list(request.ignoreChanges)
    timeouts = {
        k: getattr(request.customTimeouts, k)
        for k in ("create", "update", "delete")
        if request.HasField("customTimeouts") and getattr(request.customTimeouts, k)
    }
    if timeouts:
        options["customTimeouts"] = timeouts
    if request.deleteBeforeReplace:
        options["deleteBeforeReplace"] = True
    if request.replaceOnChanges:
        options["replaceOnChanges"] = list(request.replaceOnChanges)
    # `pulumi destroy` leaves such a resource in the cloud (an account-wide role other stacks rely on).
    if request.HasField("retainOnDelete") and request.retainOnDelete:
        options["retainOnDelete"] = True
    return options


def _alias(alias: Any) -> dict[str, Any]:
    """An alias as the engine reads it: an old URN, or the parts of the old URN that differ."""
    if alias.WhichOneof("alias") == "urn":
        return {"urn": alias.urn}
    spec = alias.spec
    fields = {"name": spec.name, "type": spec.type, "stack": spec.stack, "project": spec.project}
    parts: dict[str, Any] = {k: v for k, v in fields.items() if v}
    if spec.WhichOneof("parent") == "parentUrn":
        parts["parentUrn"] = spec.parentUrn
    elif spec.WhichOneof("parent") == "noParent":
        parts["noParent"] = spec.noParent
    return {"spec": parts}


def plain(value: Any) -> Any:
    """Wire values as JSON: secrets masked, unknowns as None, whole floats as ints (the wire has no ints)."""
    if pulumi_sdk.is_secret(value):
        return SECRET_MASK
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, pulumi.Resource):
        return "[resource reference]"
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
