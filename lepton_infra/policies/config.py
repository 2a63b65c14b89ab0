"""The pack config a user writes (YAML or JSON, snake_case), and its translation to Pulumi policy config.

One file serves both runs: ``lepton-infra check --policy-config FILE`` reads it, and the pack's
``__main__`` reads it through ``LEPTON_POLICY_CONFIG`` and announces it as the pack's initial config.
Besides enforcement and exemptions, the file may set each setting of ``PolicySettings`` by its name;
those fields are derived from the settings' declarations, never spelled here.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator

from lepton_infra.errors import ConfigError, ConfigIssue, format_path
from lepton_infra.policies.rule import PolicyRule
from lepton_infra.policies.settings import SETTINGS, Setting


class Exemption(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    policy: str = Field(description="Name of the policy the resource is exempt from.")
    resource: str = Field(description="URN or logical name of the exempt resource.")
    reason: str = Field(min_length=10, description="Why the exemption is acceptable; shown in every report.")

    @field_validator("reason")
    @classmethod
    def _written(cls, value: str) -> str:
        if len(value.strip()) < 10:
            raise ValueError("an exemption needs a written reason of at least 10 characters")
        return value.strip()


class _PackConfig(BaseModel):
    """Enforcement and exemptions; ``PackConfig`` adds one optional field per setting (None: default)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enforcement: dict[str, Literal["mandatory", "advisory", "disabled"]] = Field(
        default_factory=dict, description="Policy name (or `all`) to enforcement level."
    )
    exemptions: list[Exemption] = Field(
        default_factory=list, description="Resource/policy pairs exempt, each with a reason."
    )

    def check_names(self, rules: Iterable[PolicyRule], source: str = "policy config") -> None:
        """Refuse enforcement levels and exemptions for policies the pack does not have."""
        known = {r.name for r in rules} | {"all"}
        issues = [
            ConfigIssue(f"enforcement.{name}", f"unknown policy {name!r}{did_you_mean(name, known)}")
            for name in self.enforcement
            if name not in known
        ]
        issues += [
            ConfigIssue(
                f"exemptions[{i}].policy", f"unknown policy {e.policy!r}{did_you_mean(e.policy, known)}"
            )
            for i, e in enumerate(self.exemptions)
            if e.policy not in known
        ]
        if issues:
            raise ConfigError(source, issues)

    def enforcement_for(self, rule: PolicyRule) -> str:
        return self.enforcement.get(rule.name) or self.enforcement.get("all") or rule.enforcement

    def exemption_for(self, policy: str, urn: str | None) -> Exemption | None:
        name = urn.rsplit("::", 1)[-1] if urn else None
        for exemption in self.exemptions:
            if exemption.policy == policy and exemption.resource in (urn, name):
                return exemption
        return None

    def to_pulumi_config(
        self, rules: Iterable[PolicyRule], *, with_exemptions: bool = True, validate: bool = True
    ) -> dict[str, dict[str, Any]]:
        """Per-policy config as ``--policy-pack-config`` takes it: enforcement plus the settings it reads.

        One file configures both packs, so a caller that checked the names against every pack
        (``check_names``) passes ``validate=False`` and gets the entries of ``rules`` alone.
        """
        rules = tuple(rules)
        if validate:
            self.check_names(rules)
        settings = {s.key: value for s in SETTINGS if (value := getattr(self, s.name)) is not None}
        config: dict[str, dict[str, Any]] = {}
        for rule in rules:
            entry: dict[str, Any] = {"enforcementLevel": self.enforcement_for(rule)}
            entry.update({k: v for k, v in settings.items() if k in rule.config_keys})
            exempt = [
                {"resource": e.resource, "reason": e.reason} for e in self.exemptions if e.policy == rule.name
            ]
            if exempt and with_exemptions:
                entry["exemptions"] = exempt
            config[rule.name] = entry
        return config


def _file_field(setting: Setting) -> Any:
    """The pack config field of a setting: lists where the settings hold tuples; None keeps the default."""
    value_type = list[str] if setting.type == tuple[str, ...] else setting.type
    bounds = {"ge": setting.schema["minimum"]} if "minimum" in setting.schema else {}
    return (value_type | None, Field(default=None, description=setting.description, **bounds))


# mypy sees the base class (each setting is type-checked where it is declared); at run time the model also
# carries one optional field per setting.
if TYPE_CHECKING:
    PackConfig = _PackConfig
else:
    PackConfig = create_model(
        "PackConfig",
        __base__=_PackConfig,
        __module__=__name__,
        __doc__="The pack config file: enforcement, exemptions, and any setting of ``PolicySettings``.",
        **{s.name: _file_field(s) for s in SETTINGS},
    )


def load_config(path: Path) -> PackConfig:
    """The pack config in ``path``; a ``ConfigError`` naming the file and each bad field otherwise."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(source, [ConfigIssue("(file)", f"cannot read: {e.strerror or e}")]) from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as e:
        raise ConfigError(source, [ConfigIssue("(json)", f"malformed JSON: {e.msg}", e.lineno)]) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(source, [ConfigIssue("(yaml)", f"malformed YAML: {problem}", line)]) from None
    unknown = unknown_keys(data)
    try:
        config = PackConfig.model_validate(_without(data, unknown))
    except ValidationError as e:
        issues = [
            ConfigIssue(format_path(err["loc"]) or "(top level)", err["msg"].removeprefix("Value error, "))
            for err in e.errors()
        ]
        raise ConfigError(source, unknown + issues) from None
    if unknown:
        raise ConfigError(source, unknown)
    return config


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the known name closest to ``word``; empty when none is close."""
    close = difflib.get_close_matches(word, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_keys(data: Any) -> list[ConfigIssue]:
    """The file's top-level keys that are neither enforcement, exemptions nor a setting, each with the
    closest name it may have meant."""
    if not isinstance(data, dict):
        return []
    allowed = list(PackConfig.model_fields)
    return [
        ConfigIssue(
            str(key), f"unknown setting{did_you_mean(str(key), allowed)}; allowed: {', '.join(allowed)}"
        )
        for key in data
        if key not in allowed
    ]


def _without(data: Any, unknown: list[ConfigIssue]) -> Any:
    """``data`` less the unknown keys, which ``unknown_keys`` already reported with a hint."""
    if not isinstance(data, dict):
        return data or {}
    return {k: v for k, v in data.items() if str(k) not in {i.path for i in unknown}}
