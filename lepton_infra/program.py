"""The Pulumi program behind ``__main__.py``: read the platform config as the CLI supplies it, build it."""

from __future__ import annotations

from pathlib import Path

import pulumi

from lepton_infra.blueprint import PlatformSpec
from lepton_infra.blueprint.advice import advice
from lepton_infra.errors import ConfigError, ConfigIssue
from lepton_infra.layers import FACTS_OUTPUT, KUBECONFIGS_OUTPUT
from lepton_infra.platform import Platform
from lepton_infra.project import (
    CONFIG_NAMESPACE,
    files_outside,
    secret_config_keys,
    secret_key_issues,
    validate_platform,
)


def read_platform_spec() -> PlatformSpec:
    """The validated spec from ``lepton-infra:platform``; a readable RunError (no traceback) if invalid."""
    from pulumi.runtime.config import get_config, is_config_secret

    raw = pulumi.Config(CONFIG_NAMESPACE).require_object("platform")
    source = f"stack {pulumi.get_stack()!r} config (Pulumi.{pulumi.get_stack()}.yaml)"
    try:
        spec = validate_platform(raw, source)
    except ConfigError as error:
        raise pulumi.RunError(error.render()) from None
    # The same refusals the CLI makes from the stack file, from what the Pulumi CLI handed over: a kubeconfig
    # kept in plain config, a kubeconfig file outside the project (the program runs in the project's folder).
    named = {f"{CONFIG_NAMESPACE}:{key}" for key in secret_config_keys(spec)}
    found = secret_key_issues(
        spec, {k for k in named if is_config_secret(k)}, {k for k in named if get_config(k) is not None}
    )
    found += files_outside(spec, Path.cwd())
    if found:
        raise pulumi.RunError(ConfigError(source, [ConfigIssue(p, m) for p, m in found]).render())
    return spec


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
