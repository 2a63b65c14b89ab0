"""Pulumi mocks that answer like the clouds would: realistic IDs, ARNs and endpoints from ``fakes``."""

from __future__ import annotations

import importlib
from typing import Any

import pulumi

from lepton_infra.plan.fakes import DEFAULT_FAKERS, INVOKE_FAKERS, RESOURCE_FAKERS, FakeContext

# Fakers of every cloud (and of Kubernetes) are loaded up front: they are small and import no cloud SDK.
for _cloud in ("aws", "azure", "alicloud", "kubernetes"):
    importlib.import_module(f"lepton_infra.plan.fakes.{_cloud}")

FALLBACK_REGION = "us-east-1"


class PlanMocks(pulumi.runtime.Mocks):
    """Outputs for every resource and invoke, in the region of the provider that made the call."""

    def __init__(self) -> None:
        # Provider reference ("<urn>::<id>") → the region or location it was configured with.
        self.regions: dict[str, str] = {}

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
        identifier, outputs = self.fake(args.typ, args.name, args.inputs, args.provider)
        return identifier, {**args.inputs, **outputs}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        faker = INVOKE_FAKERS.get(args.token)
        if faker is None:
            return {}, []
        return faker(args.args, self.region_of(args.provider)), []
