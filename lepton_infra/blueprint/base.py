"""The base every user-facing model shares, and the constrained strings they reuse."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints
from pydantic_core import PydanticCustomError

from lepton_infra import validation
from lepton_infra.validation import DNS_LABEL_MAX_LENGTH, DNS_LABEL_PATTERN

# A DNS-1123 label: usable as a Kubernetes name and inside cloud resource names.
DnsLabel = Annotated[
    str, StringConstraints(pattern=DNS_LABEL_PATTERN, min_length=1, max_length=DNS_LABEL_MAX_LENGTH)
]


def _supported_kubernetes_version(version: str) -> str:
    validation.refuse(validation.kubernetes_version(version))
    return version


KubernetesVersion = Annotated[str, AfterValidator(_supported_kubernetes_version)]
# Kubernetes minor versions every site type accepts: validation's, which the components check too.
SUPPORTED_KUBERNETES_VERSIONS = validation.SUPPORTED_KUBERNETES_VERSIONS


class SpecModel(BaseModel):
    """Frozen, closed models: an unknown or misspelled key is an error, never ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=False)


# The error type of rules that name the fields they blame (``spec.errors`` expands each issue's path).
CROSS_FIELD_ERROR = "platform_rule"


def rule_error(issues: Sequence[tuple[str, str]]) -> PydanticCustomError:
    """One error with every (path relative to the model, message) issue, so a user sees them all at once."""
    pairs = [(path, message) for path, message in issues]
    return PydanticCustomError(
        CROSS_FIELD_ERROR, "; ".join(f"{path}: {message}" for path, message in pairs), {"issues": pairs}
    )
