"""The Pulumi program behind ``__main__.py``: read the platform config as the CLI supplies it, build it."""

from __future__ import annotations

import pulumi
from pydantic import ValidationError

from lepton_infra.blueprint import PlatformSpec
from lepton_infra.blueprint.errors import ConfigError, ConfigIssue, format_path, issues_from_validation
from lepton_infra.platform import Platform
from lepton_infra.project import CONFIG_NAMESPACE, PLATFORM_KEY


def read_platform_spec() -> PlatformSpec:
    """The validated spec from ``lepton-infra:platform``; a readable RunError (no traceback) if invalid."""
    raw = pulumi.Config(CONFIG_NAMESPACE).require_object("platform")
    try:
        return PlatformSpec.model_validate(raw)
    except ValidationError as error:
        source = f"stack {pulumi.get_stack()!r} config (Pulumi.{pulumi.get_stack()}.yaml)"
        issues = [
            ConfigIssue(format_path(parts), message)
            for parts, message in issues_from_validation(error, PlatformSpec, raw, PLATFORM_KEY)
        ]
        raise pulumi.RunError(ConfigError(source, issues).render()) from None


def main() -> Platform:
    spec = read_platform_spec()
    platform = Platform(spec.name, spec)
    pulumi.export("kubeconfigs", platform.kubeconfigs)
    pulumi.export("registries", {name: handle.registry for name, handle in platform.handles.items()})
    pulumi.export(
        "artifact_buckets", {name: handle.artifact_bucket_uri for name, handle in platform.handles.items()}
    )
    return platform
