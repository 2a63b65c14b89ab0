"""The Pulumi program behind ``__main__.py``: read the platform config as the CLI supplies it, build it."""

from __future__ import annotations

import pulumi

from lepton_infra.blueprint import PlatformSpec
from lepton_infra.blueprint.advice import advice
from lepton_infra.errors import ConfigError
from lepton_infra.layers import FACTS_OUTPUT, KUBECONFIGS_OUTPUT
from lepton_infra.platform import Platform
from lepton_infra.project import CONFIG_NAMESPACE, validate_platform


def read_platform_spec() -> PlatformSpec:
    """The validated spec from ``lepton-infra:platform``; a readable RunError (no traceback) if invalid."""
    raw = pulumi.Config(CONFIG_NAMESPACE).require_object("platform")
    source = f"stack {pulumi.get_stack()!r} config (Pulumi.{pulumi.get_stack()}.yaml)"
    try:
        return validate_platform(raw, source)
    except ConfigError as error:
        raise pulumi.RunError(error.render()) from None


def main() -> Platform:
    spec = read_platform_spec()
    for path, message in advice(spec):
        pulumi.log.warn(f"{path}: {message}")
    platform = Platform(spec.name, spec, secrets=pulumi.Config(CONFIG_NAMESPACE).require_secret)
    pulumi.export(KUBECONFIGS_OUTPUT, platform.kubeconfigs)
    pulumi.export("registries", platform.registries)
    pulumi.export("artifact_buckets", platform.artifact_buckets)
    if platform.cloud_facts:
        # What the Kubernetes layer reads through its stack reference (lepton_infra/layers.py).
        pulumi.export(FACTS_OUTPUT, platform.cloud_facts)
    return platform
