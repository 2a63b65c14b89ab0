"""The neutral view (``policies.view``) of an offline plan: the converter the offline engine owns.

The packs may not import the engine, so the conversion from ``PlanResource`` lives here, the mirror of
``policies.pack.view_of`` for the analyzer's resources. Inputs pass as they are: the engine's camelCase
names, unknown values as the engine's sentinels (a saved preview keeps them), numbers as plans hold them.
"""

from __future__ import annotations

from sys import intern
from types import MappingProxyType

from lepton_infra.plan.model import Plan, PlanResource
from lepton_infra.policies.view import Resource, Stack


def provider_urn(reference: str | None) -> str | None:
    """The provider's URN from a provider reference ``<urn>::<id>`` (one string object per provider)."""
    return intern(reference.rsplit("::", 1)[0]) if reference else None


# Most resources set no option but protect: they share one read-only options map each way.
_PROTECT = {flag: MappingProxyType({"protect": flag}) for flag in (False, True)}


def resource_view(resource: PlanResource) -> Resource:
    options = _PROTECT[resource.protect]
    if resource.options:
        options = MappingProxyType({"protect": resource.protect, **resource.options})
    return Resource(
        type=resource.type,
        name=resource.name,
        urn=resource.urn,
        props=resource.inputs,
        parent=resource.parent,
        provider=provider_urn(resource.provider),
        dependencies=resource.dependencies,
        property_dependencies=resource.property_dependencies,
        options=options,
        custom=resource.custom,
    )


def stack_view(plan: Plan) -> Stack:
    """Every resource of the plan, components included (rules walk parents through them)."""
    return Stack(resource_view(r) for r in plan.resources)
