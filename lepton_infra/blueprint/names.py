"""Constrained names the specs share: image references (pinned by digest), host, metric and variable names."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from lepton_infra.blueprint.base import SpecModel, rule_error

Digest = Annotated[str, StringConstraints(pattern=r"^sha256:[a-f0-9]{64}$")]
RepositoryPath = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$", max_length=200),
]
ImageTag = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
Hostname = Annotated[
    str,
    StringConstraints(
        pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]([-a-z0-9]*[a-z0-9])?$", max_length=253
    ),
]
# A container environment variable name, as Kubernetes accepts it.
EnvName = Annotated[str, StringConstraints(pattern=r"^[-._a-zA-Z][-._a-zA-Z0-9]*$", max_length=253)]
# A Prometheus metric name, as the metrics adapter serves it to the HPA.
MetricName = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$", max_length=200)]


class ImageSpec(SpecModel):
    """A container image in the site's registry, pinned by digest so what runs is what was tested."""

    repository: RepositoryPath = Field(
        description="Repository path in the site's registry (which gives the host), e.g. lepton/train."
    )
    digest: Digest | None = Field(
        default=None, description="Image digest, sha256:<64 hex>. Required unless opted out."
    )
    tag: ImageTag | None = Field(
        default=None, description="Tag; informative next to a digest, the reference without one."
    )
    allow_tag_only: bool = Field(
        default=False,
        description="Accept a tag without a digest (a tag can move under a running workload).",
    )

    @model_validator(mode="after")
    def _pinned(self) -> ImageSpec:
        if self.digest is None and not self.allow_tag_only:
            message = (
                "pin the image by `digest: sha256:...`; to run a moving tag knowingly, set `allow_tag_only`"
            )
            raise rule_error([("digest", message)])
        if self.digest is None and self.tag is None:
            raise rule_error([("tag", "give a `tag` (or better, a `digest`)")])
        return self

    def reference(self, registry: str) -> str:
        """The full image reference under ``registry``; the digest wins over the tag when both are given."""
        name = f"{registry}/{self.repository}"
        if self.tag is not None:
            name = f"{name}:{self.tag}"
        return f"{name}@{self.digest}" if self.digest is not None else name
