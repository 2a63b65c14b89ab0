"""The multi-language package: our components for TypeScript, Go, C#, Java and YAML programs.

Pulumi's Python component provider (``pulumi.provider.experimental``) hosts these thin components and infers
the package schema from their type annotations; each builds one of our Python components underneath, so the
Python API and its type tokens (``lepton:aws:EksCluster``) stay as they are. Their inputs are flat, documented
and serialisable (no callables: a Kubernetes component takes a kubeconfig, a registry host and identity
annotations instead of a ClusterHandle), their tokens ``lepton-infra:index:<Class>``.

Importing this package imports no cloud SDK; :func:`component_classes` imports every cloud's module.
"""

from __future__ import annotations

import importlib
import importlib.metadata

import pulumi

PACKAGE_NAME = "lepton-infra"
DISTRIBUTION = "lepton-infra"

# Modules that define the package's components, in the order the schema lists them.
COMPONENT_MODULES = (
    "lepton_infra.package.aws",
    "lepton_infra.package.aws_nodes",
    "lepton_infra.package.azure",
    "lepton_infra.package.azure_cluster",
    "lepton_infra.package.alicloud",
    "lepton_infra.package.kubernetes",
    "lepton_infra.package.autoscaling",
    "lepton_infra.package.platform",
)


def package_version() -> str:
    """The installed distribution's version: what the provider reports and the schema carries."""
    return importlib.metadata.version(DISTRIBUTION)


def component_classes() -> list[type[pulumi.ComponentResource]]:
    """Every component of the package (each module's ``COMPONENTS``), importing every cloud's SDK."""
    found: list[type[pulumi.ComponentResource]] = []
    for name in COMPONENT_MODULES:
        found += importlib.import_module(name).COMPONENTS
    return found
