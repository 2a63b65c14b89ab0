"""The neutral view (``policies.view``) of an offline plan: the converter the offline engine owns.

The packs may not import the engine, so the conversion from ``PlanResource`` lives here, the mirror of
``policies.pack.view_of`` for the analyzer's resources. Inputs pass as they are: the engine's camelCase
names, unknown values as the engine's sentinels (a saved preview keeps them), numbers as plans hold them.
"""

from __future__ import annotations

from lepton_infra.plan.model import Plan, PlanResource
from lepton_infra.policies.view import Resource, Stack


def provider_urn(reference: str | None) -> str | None:
    """The provider's URN from a provider reference ``<urn>::<id>``."""
    return reference.rsplit("::", 1)[0] if reference else None


def resource_view(resource: PlanResource) -> Resource:
    return Resource(
        type=resource.type,
        name=resource.name,
        urn=resource.urn,
        props=resource.inputs,
        parent=resource.parent,
        provider=provider_urn(resource.provider),
        dependencies=resource.dependencies,
        property_dependencies=resource.property_dependencies,
        options={"protect": resource.protect, **resource.options},
        custom=resource.custom,
    )


def stack_view(plan: Plan) -> Stack:
    """Every resource of the plan, components included (rules walk parents through them)."""
    return Stack(resource_view(r) for r in plan.resources)
