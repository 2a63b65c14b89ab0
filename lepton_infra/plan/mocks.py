"""Pulumi mocks that answer like the clouds would: realistic IDs, ARNs and endpoints from ``fakes``."""

from __future__ import annotations

import importlib
from typing import Any

import pulumi

from lepton_infra.plan import pulumi_sdk
from lepton_infra.plan.fakes import DEFAULT_FAKERS, INVOKE_FAKERS, RESOURCE_FAKERS, FakeContext
from lepton_infra.plan.model import StackOutputs

# Fakers of every cloud (and of Kubernetes) are loaded up front: they are small and import no cloud SDK.
for _cloud in ("aws", "azure", "alicloud", "kubernetes"):
    importlib.import_module(f"lepton_infra.plan.fakes.{_cloud}")

FALLBACK_REGION = "us-east-1"
STACK_REFERENCE = "pulumi:pulumi:StackReference"


class UnknownStackReference(LookupError):
    """A program reads a stack the offline plan has no outputs for."""


class PlanMocks(pulumi.runtime.Mocks):
    """Outputs for every resource and invoke, in the region of the provider that made the call."""

    def __init__(self, stack_outputs: dict[str, StackOutputs] | None = None) -> None:
        # Provider reference ("<urn>::<id>") → the region or location it was configured with.
        self.regions: dict[str, str] = {}
        # Fully qualified stack name → its outputs (from that stack's own offline plan), served to reads
        # of `pulumi:pulumi:StackReference`.
        self.stack_outputs = stack_outputs or {}

    def region_of(self, provider_ref: str | None) -> str:
        return self.regions.get(provider_ref or "", FALLBACK_REGION)

    def fake(
        self, type_: str, name: str, inputs: dict[str, Any], provider_ref: str | None
    ) -> tuple[str, dict[str, Any]]:
        ctx = FakeContext(type_, name, inputs, self.region_of(provider_ref))
        faker = RESOURCE_FAKERS.get(type_) or DEFAULT_FAKERS.get(type_.split(":", 1)[0] + ":")
        if faker is None:
            return f"{name}-{ctx.hex(8)}", {}
        identifier, outputs = faker(ctx)
        return identifier, outputs

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        if args.typ == STACK_REFERENCE:
            return self.read_stack(str(args.resource_id or args.inputs.get("name")))
        identifier, outputs = self.fake(args.typ, args.name, args.inputs, args.provider)
        return identifier, {**args.inputs, **outputs}

    def read_stack(self, stack: str) -> tuple[str, dict[str, Any]]:
        """A stack reference's state as the engine reads it: outputs (secrets marked) and their names."""
        found = self.stack_outputs.get(stack)
        if found is None:
            known = ", ".join(sorted(self.stack_outputs)) or "none"
            raise UnknownStackReference(
                f"the offline plan has no outputs of stack {stack!r} to serve its stack reference "
                f"(stacks planned for it: {known})"
            )
        outputs = {
            name: pulumi_sdk.secret(value) if name in found.secret_names else value
            for name, value in found.values.items()
        }
        return stack, {"name": stack, "outputs": outputs, "secretOutputNames": sorted(found.secret_names)}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        faker = INVOKE_FAKERS.get(args.token)
        if faker is None:
            return {}, []
        return faker(args.args, self.region_of(args.provider)), []
