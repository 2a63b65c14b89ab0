"""The base every user-facing model shares, and the constrained strings they reuse."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from lepton_infra import validation
from lepton_infra.blueprint.scalars import SCALAR_TYPE_ERROR, scalar_problem
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

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # One before-validator per model for the fields it declares. Not `field_validator("*")`: pydantic
        # refuses a before-validator on a tagged union's discriminator (`kind`, `cloud`), a Literal.
        super().__init_subclass__(**kwargs)
        names = [
            name
            for name, annotation in vars(cls).get("__annotations__", {}).items()
            if not any(marker in str(annotation) for marker in ("Literal[", "ClassVar"))
        ]
        if names:
            check = field_validator(*names, mode="before", check_fields=False)(_scalars_as_written)
            setattr(cls, f"_scalars_as_written_{cls.__name__}", check)


def _scalars_as_written(cls: type[BaseModel], value: Any, info: ValidationInfo) -> Any:
    """A boolean or number field refuses a string (``spot: "yes"``) as the JSON Schema does."""
    field = cls.model_fields.get(info.field_name or "")
    if field is not None and (problem := scalar_problem(field.annotation, value)):
        raise PydanticCustomError(SCALAR_TYPE_ERROR, problem)
    return value


# The error type of rules that name the fields they blame (``spec.errors`` expands each issue's path).
CROSS_FIELD_ERROR = "platform_rule"


def rule_error(issues: Sequence[tuple[str, str]]) -> PydanticCustomError:
    """One error with every (path relative to the model, message) issue, so a user sees them all at once."""
    pairs = [(path, message) for path, message in issues]
    return PydanticCustomError(
        CROSS_FIELD_ERROR, "; ".join(f"{path}: {message}" for path, message in pairs), {"issues": pairs}
    )
