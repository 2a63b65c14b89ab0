"""The pack config a user writes (YAML or JSON, snake_case), and its translation to Pulumi policy config.

One file serves both runs: ``lepton-infra check --policy-config FILE`` reads it, and the pack's
``__main__`` reads it through ``LEPTON_POLICY_CONFIG`` and announces it as the pack's initial config.
Besides enforcement and exemptions, the file may set each setting of ``PolicySettings`` by its name;
those fields are derived from the settings' declarations, never spelled here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from lepton_infra.errors import ConfigError, ConfigIssue
from lepton_infra.policies.rule import PolicyRule
from lepton_infra.policies.settings import SETTINGS, Setting

ENFORCEMENT_LEVELS = ("mandatory", "advisory", "disabled")


class PackConfigError(ValueError):
    """A pack config with bad fields; ``issues`` names each one by its path."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        super().__init__("; ".join(f"{i.path}: {i.message}" for i in issues))
        self.issues = issues


@dataclass(frozen=True)
class Exemption:
    policy: str
    resource: str
    reason: str


@dataclass(frozen=True)
class FieldDoc:
    """What the file's field means: ``PackConfig.model_fields[name].description``."""

    description: str


class _Fields:
    """Reads a pack config mapping field by field, collecting every problem with its path."""

    def __init__(self) -> None:
        self.issues: list[ConfigIssue] = []

    def problem(self, path: str, message: str) -> None:
        self.issues.append(ConfigIssue(path, message))

    def strings(self, path: str, value: Any) -> list[str] | None:
        if not isinstance(value, list):
            self.problem(path, "Input should be a valid list")
            return None
        bad = [i for i, v in enumerate(value) if not isinstance(v, str)]
        for i in bad:
            self.problem(f"{path}[{i}]", "Input should be a valid string")
        return None if bad else list(value)

    def integer(self, path: str, value: Any, minimum: int | None) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
            self.problem(path, "Input should be a valid integer")
            return None
        if minimum is not None and value < minimum:
            self.problem(path, f"Input should be greater than or equal to {minimum}")
            return None
        return int(value)

    def setting(self, setting: Setting, value: Any) -> Any:
        if value is None:
            return None
        if setting.type == tuple[str, ...]:
            return self.strings(setting.name, value)
        if setting.type is str:
            pattern = setting.schema.get("pattern")
            if not isinstance(value, str) or (pattern and re.match(pattern, value) is None):
                self.problem(setting.name, f"Input should be a string matching {pattern}")
                return None
            return value
        return self.integer(setting.name, value, setting.schema.get("minimum"))

    def enforcement(self, value: Any) -> dict[str, str]:
        if not isinstance(value, Mapping):
            self.problem("enforcement", "Input should be a valid dictionary")
            return {}
        levels = {}
        for name, level in value.items():
            if level not in ENFORCEMENT_LEVELS:
                allowed = ", ".join(f"'{v}'" for v in ENFORCEMENT_LEVELS)
                self.problem(f"enforcement.{name}", f"Input should be {allowed}")
            else:
                levels[str(name)] = str(level)
        return levels

    def exemptions(self, value: Any) -> list[Exemption]:
        if not isinstance(value, list):
            self.problem("exemptions", "Input should be a valid list")
            return []
        found = []
        for i, entry in enumerate(value):
            path = f"exemptions[{i}]"
            if not isinstance(entry, Mapping):
                self.problem(path, "Input should be a valid dictionary")
                continue
            for extra in sorted(set(entry) - {"policy", "resource", "reason"}):
                self.problem(f"{path}.{extra}", "Extra inputs are not permitted")
            values = {}
            for key in ("policy", "resource", "reason"):
                if key not in entry:
                    self.problem(f"{path}.{key}", "Field required")
                elif not isinstance(entry[key], str):
                    self.problem(f"{path}.{key}", "Input should be a valid string")
                else:
                    values[key] = entry[key]
            reason = values.get("reason")
            if reason is not None and len(reason.strip()) < 10:
                self.problem(
                    f"{path}.reason", "an exemption needs a written reason of at least 10 characters"
                )
            elif len(values) == 3:
                found.append(Exemption(values["policy"], values["resource"], values["reason"].strip()))
        return found


class PackConfig:
    """The pack config file: enforcement, exemptions, and any setting of ``PolicySettings`` (None: the
    setting's default). Validated by hand rather than with pydantic: ``lepton-infra check`` reads it on
    every run, and pydantic alone costs a third of that command's start-up."""

    model_fields: ClassVar[dict[str, FieldDoc]] = {
        "enforcement": FieldDoc("Policy name (or `all`) to enforcement level."),
        "exemptions": FieldDoc("Resource/policy pairs exempt, each with a reason."),
        **{s.name: FieldDoc(s.description) for s in SETTINGS},
    }

    def __init__(self, **fields: Any) -> None:
        unknown = sorted(set(fields) - set(self.model_fields))
        reader = _Fields()
        for name in unknown:
            reader.problem(name, "Extra inputs are not permitted")
        self.enforcement: dict[str, str] = reader.enforcement(fields.get("enforcement") or {})
        self.exemptions: list[Exemption] = reader.exemptions(fields.get("exemptions") or [])
        self._settings = {s.name: reader.setting(s, fields.get(s.name)) for s in SETTINGS}
        if reader.issues:
            raise PackConfigError(reader.issues)

    def __getattr__(self, name: str) -> Any:
        settings = self.__dict__.get("_settings", {})
        if name in settings:
            return settings[name]
        raise AttributeError(name)

    @classmethod
    def model_validate(cls, data: Any) -> PackConfig:
        if not isinstance(data, Mapping):
            raise PackConfigError([ConfigIssue("(top level)", "Input should be a valid dictionary")])
        return cls(**{str(k): v for k, v in data.items()})

    def check_names(self, rules: Iterable[PolicyRule], source: str = "policy config") -> None:
        """Refuse enforcement levels and exemptions for policies the pack does not have."""
        known = {r.name for r in rules} | {"all"}
        issues = [
            ConfigIssue(f"enforcement.{name}", f"unknown policy {name!r}")
            for name in self.enforcement
            if name not in known
        ]
        issues += [
            ConfigIssue(f"exemptions[{i}].policy", f"unknown policy {e.policy!r}")
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


def load_config(path: Path) -> PackConfig:
    """The pack config in ``path``; a ``ConfigError`` naming the file and each bad field otherwise."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(source, [ConfigIssue("(file)", f"cannot read: {e.strerror or e}")]) from None
    import yaml

    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as e:
        raise ConfigError(source, [ConfigIssue("(json)", f"malformed JSON: {e.msg}", e.lineno)]) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(source, [ConfigIssue("(yaml)", f"malformed YAML: {problem}", line)]) from None
    try:
        return PackConfig.model_validate(data or {})
    except PackConfigError as e:
        raise ConfigError(source, e.issues) from None
