"""The Pulumi project on disk: ``Pulumi.yaml``, its stack files, and config as the CLI hands it over."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml
from pydantic import ValidationError

from lepton_infra.blueprint import PlatformSpec
from lepton_infra.blueprint.advice import advice
from lepton_infra.blueprint.errors import issues_from_validation
from lepton_infra.blueprint.secret_scan import redact
from lepton_infra.errors import ConfigError, ConfigIssue, PathPart, format_path, parse_path, render_warnings
from lepton_infra.yaml_input import YamlDocument, YamlInputError, read_yaml

CONFIG_NAMESPACE = "lepton-infra"
PLATFORM_KEY = f"{CONFIG_NAMESPACE}:platform"
# What the Pulumi CLI hands a program for a `secure:` value it cannot decrypt offline.
SECRET_PLACEHOLDER = "[secret]"
# A stack's name as Pulumi allows it ("alphanumeric characters, hyphens, underscores, or periods"); never a
# path, so `--stack ../../x` cannot name a file outside the stack directory.
STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


@dataclass(frozen=True)
class PulumiProject:
    root: Path
    name: str
    stack_config_dir: Path
    main: Path
    # Project-level config (``config:`` in Pulumi.yaml, Pulumi 3.44+): the values every stack starts from,
    # keys namespaced as in a stack file; a stack file's own values win.
    config_defaults: dict[str, Any] = field(default_factory=dict)

    def stack_file(self, stack: str) -> Path:
        return self.stack_config_dir / f"Pulumi.{stack}.yaml"

    def stacks(self) -> list[str]:
        return sorted(
            p.name[len("Pulumi.") : -len(".yaml")] for p in self.stack_config_dir.glob("Pulumi.*.yaml")
        )


@dataclass(frozen=True)
class StackConfig:
    """One stack file's ``config:`` block, keys namespaced as the CLI namespaces them."""

    stack: str
    path: Path
    values: dict[str, Any]
    secret_keys: frozenset[str] = frozenset()
    document: yaml.Node | None = field(default=None, repr=False, compare=False)
    # The project's directory: relative paths in the config (a kubeconfig file) are read from there.
    project_root: Path | None = None

    def runtime_config(self) -> dict[str, str]:
        """The map the CLI gives a program: structured values as JSON strings (as in PULUMI_CONFIG)."""
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in self.values.items()}

    @property
    def source(self) -> str:
        """The stack file as errors name it (relative to the working directory where it can be)."""
        return _display(self.path)

    def line_of(self, parts: list[PathPart]) -> int | None:
        """1-based line of a config path like ``["lepton-infra:platform", "sites", 0]`` in the file."""
        node = _child(self.document, "config") if self.document is not None else None
        for part in parts:
            child = _child(node, part)
            if child is None:
                break
            node = child
        return node.start_mark.line + 1 if node is not None else None


def find_project(start: Path | None = None) -> PulumiProject:
    """The nearest directory at or above ``start`` holding a ``Pulumi.yaml``."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        project_file = directory / "Pulumi.yaml"
        if project_file.is_file():
            return _read_project(project_file)
    raise ConfigError(
        str(here), [ConfigIssue("Pulumi.yaml", "no Pulumi.yaml here or in any parent directory")]
    )


def _read_project(project_file: Path) -> PulumiProject:
    data = _load_yaml(project_file).value
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise ConfigError(str(project_file), [ConfigIssue("name", "a Pulumi.yaml needs a `name:`")])
    root = project_file.parent
    main = data.get("main", ".")
    main_path = root / main
    if main_path.is_dir():
        main_path = main_path / "__main__.py"
    return PulumiProject(
        root=root,
        name=data["name"],
        stack_config_dir=root / str(data.get("stackConfigDir", ".")),
        main=main_path,
        config_defaults=_project_config(data, project_file),
    )


# What a key of Pulumi.yaml's `config:` may hold besides a value: a declaration of the key.
_DECLARATION_KEYS = frozenset({"type", "description", "secret", "items", "default", "value"})


def _project_config(data: dict[str, Any], project_file: Path) -> dict[str, Any]:
    """The values of Pulumi.yaml's ``config:``, namespaced: a plain value, or ``value:``/``default:`` of a
    declaration (Pulumi's project file reference: an object value must sit under ``value:``, so that a
    declaration and a value can be told apart); a declaration without either gives no value."""
    block = data.get("config") or {}
    if not isinstance(block, dict):
        raise ConfigError(_display(project_file), [ConfigIssue("config", "`config:` must be a mapping")])
    name = data["name"]
    values: dict[str, Any] = {}
    for key, entry in block.items():
        full_key = key if ":" in str(key) else f"{name}:{key}"
        if not isinstance(entry, dict):
            values[full_key] = entry
        elif not set(entry) <= _DECLARATION_KEYS:
            raise ConfigError(
                _display(project_file),
                [ConfigIssue(f"config.{key}", "an object value goes under `value:` in Pulumi.yaml")],
            )
        elif "value" in entry or "default" in entry:
            values[full_key] = entry.get("value", entry.get("default"))
    return values


def read_stack_config(
    project: PulumiProject, stack: str, *, outside_project: bool = False, path: Path | None = None
) -> StackConfig:
    """The stack's config, read once (``yaml_input``: UTF-8, bounded, every key once), over the project's
    own defaults (Pulumi.yaml's ``config:``).

    ``path`` reads the config from that file instead of ``Pulumi.<stack>.yaml`` in the stack config
    directory, as ``pulumi up --config-file`` does. Either way the file must lie inside the project (after
    links are followed) unless ``outside_project`` says otherwise: `lepton-infra plan` runs the project's
    program with this config.
    """
    if path is None:
        path = stack_file_inside(project, stack, outside_project=outside_project)
        if not path.is_file():
            known = ", ".join(project.stacks()) or "none"
            raise ConfigError(
                str(path), [ConfigIssue("stack", f"no stack file for {stack!r}; stacks: {known}")]
            )
    else:
        check_stack_name(stack)
        _refuse_outside(project, path, outside_project)
        if not path.is_file():
            raise ConfigError(str(path), [ConfigIssue("--stack-file", "no such file")])
    loaded = _load_yaml(path)
    data = {} if loaded.value is None else loaded.value
    if not isinstance(data, dict) or not isinstance(data.get("config", {}), dict):
        raise ConfigError(
            str(path), [ConfigIssue("config", "a stack file is a mapping with a `config:` mapping")]
        )
    values: dict[str, Any] = dict(project.config_defaults)
    secrets: set[str] = set()
    for key, value in (data.get("config") or {}).items():
        full_key = key if ":" in str(key) else f"{project.name}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            secrets.add(full_key)
        values[full_key] = SECRET_PLACEHOLDER if full_key in secrets else value
    return StackConfig(stack, path, values, frozenset(secrets), loaded.root, project.root)


def stack_name_of(path: Path) -> str:
    """The stack a config file is for, from its name: ``Pulumi.<stack>.yaml`` (else the name's stem)."""
    name = path.name
    if name.startswith("Pulumi.") and name.endswith((".yaml", ".yml")):
        return name[len("Pulumi.") :].rsplit(".", 1)[0]
    return path.stem


def check_stack_name(stack: str) -> None:
    """Refuse a stack name that is not one (a path, a space, an empty name)."""
    if not STACK_NAME.match(stack):
        raise ConfigError(
            "--stack",
            [
                ConfigIssue(
                    "stack", f"{stack!r} is not a stack name (letters, digits, `-`, `_`, `.`; no paths)"
                )
            ],
        )


def stack_file_inside(project: PulumiProject, stack: str, *, outside_project: bool = False) -> Path:
    """The stack's file, refused when the name is not a stack name or the file lies outside the project."""
    check_stack_name(stack)
    path = project.stack_file(stack)
    _refuse_outside(project, path, outside_project)
    return path


def _refuse_outside(project: PulumiProject, path: Path, outside_project: bool) -> None:
    if not outside_project and not is_inside(path, project.root):
        raise ConfigError(
            str(path),
            [
                ConfigIssue(
                    "stack",
                    f"the stack file resolves to {path.resolve()}, outside the project "
                    f"{project.root.resolve()}; pass --allow-outside-project to read it anyway",
                )
            ],
        )


def is_inside(path: Path, root: Path) -> bool:
    """Whether ``path``, with every link followed, lies under ``root``."""
    return path.resolve().is_relative_to(root.resolve())


def uses_platform(project: PulumiProject, config: StackConfig) -> bool:
    """Whether the stack deploys the platform spec: it sets ``lepton-infra:platform``, or it is a stack of
    our own project (whose program requires the key: its absence is then a config error, with the file).
    Any other project's program runs with its config as it is."""
    return PLATFORM_KEY in config.values or project.name == CONFIG_NAMESPACE


def platform_spec(config: StackConfig) -> PlatformSpec:
    """Validate the stack's platform key, reporting every problem with its line in the stack file."""
    source = config.source
    raw = config.values.get(PLATFORM_KEY)
    if raw is None:
        raise ConfigError(source, [ConfigIssue(PLATFORM_KEY, "required key is missing from `config:`")])
    spec = validate_platform(raw, source, config.line_of)
    found = secret_key_issues(spec, config.secret_keys, set(config.values))
    found += files_outside(spec, config.project_root)
    if found:
        raise ConfigError(
            source,
            [
                ConfigIssue(
                    format_path([PLATFORM_KEY, *parse_path(p)]),
                    m,
                    config.line_of([PLATFORM_KEY, *parse_path(p)]),
                )
                for p, m in found
            ],
        )
    return spec


def secret_config_keys(spec: PlatformSpec) -> list[str]:
    """The config keys (without namespace) the spec says hold a kubeconfig."""
    keys = (getattr(getattr(site, "kubeconfig", None), "secret_config_key", None) for site in spec.sites)
    return [key for key in keys if key is not None]


def secret_key_issues(
    spec: PlatformSpec, secret_keys: Collection[str], keys: Collection[str]
) -> list[tuple[str, str]]:
    """A kubeconfig's ``secret_config_key`` must name a `secure:` value of the stack's config."""
    found = []
    for i, site in enumerate(spec.sites):
        key = getattr(getattr(site, "kubeconfig", None), "secret_config_key", None)
        if key is None:
            continue
        full = f"{CONFIG_NAMESPACE}:{key}"
        path = f"sites[{i}].kubeconfig.secret_config_key"
        if full not in keys:
            found.append(
                (
                    path,
                    f"the stack has no config key {full!r}; set it with "
                    f"`pulumi config set --secret {key} < kubeconfig`",
                )
            )
        elif full not in secret_keys:
            found.append(
                (
                    path,
                    f"{full!r} is plain config, written in clear to the stack file and the state; set it "
                    f"again with `pulumi config set --secret {key} < kubeconfig`",
                )
            )
    return found


def files_outside(spec: PlatformSpec, root: Path | None) -> list[tuple[str, str]]:
    """Kubeconfig files that resolve (links followed) outside the project, unless the site allows it."""
    if root is None:
        return []
    found = []
    for i, site in enumerate(spec.sites):
        source = getattr(site, "kubeconfig", None)
        if source is None or source.path is None or source.allow_outside_project:
            continue
        if not is_inside(root / source.path, root):
            found.append(
                (
                    f"sites[{i}].kubeconfig.path",
                    f"{source.path} resolves to {(root / source.path).resolve()}, outside the project; "
                    "keep the file in the project, or set allow_outside_project",
                )
            )
    return found


def platform_warnings(config: StackConfig, spec: PlatformSpec) -> str:
    """The spec's advice (``blueprint/advice.py``) as warning lines, each with its line in the stack file;
    empty when there is none."""
    issues = [
        ConfigIssue(path, message, config.line_of([PLATFORM_KEY, *parse_path(path)]))
        for path, message in advice(spec)
    ]
    return render_warnings(_display(config.path), issues)


def validate_platform(
    raw: Any, source: str, line_of: Callable[[list[PathPart]], int | None] | None = None
) -> PlatformSpec:
    """The spec from the value of ``lepton-infra:platform``, or a ``ConfigError`` naming every problem.

    The one validation of the platform config: the CLI calls it with the stack file (``line_of`` finds
    each problem's line), the Pulumi program with the config the CLI handed it.
    """
    try:
        return PlatformSpec.model_validate(raw)
    except ValidationError as error:
        # A secret the user pasted somewhere may come back inside a message: redact what the scan finds.
        issues = [
            ConfigIssue(format_path(parts), redact(message), line_of(parts) if line_of else None)
            for parts, message in issues_from_validation(error, PlatformSpec, raw, PLATFORM_KEY)
        ]
        raise ConfigError(source, issues) from None


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _load_yaml(path: Path) -> YamlDocument:
    try:
        return read_yaml(path)
    except YamlInputError as error:
        raise ConfigError(_display(path), [ConfigIssue("(yaml)", str(error), error.line)]) from None


def _child(node: yaml.Node | None, part: PathPart) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == str(part) or (isinstance(part, str) and key.value == part.split(":", 1)[-1]):
                return cast(yaml.Node, value)
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return cast(yaml.Node, node.value[part])
    return None
