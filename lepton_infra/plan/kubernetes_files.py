"""Kubernetes manifests as a plan: what ``lepton-infra check`` reads from YAML or JSON files or a folder.

The same files ``plan --manifests DIR`` writes, ``kubectl apply -f`` takes, or checkov scans: one object
per document (``---`` between them), ``kind: List`` expanded. Each object becomes a resource of its
pulumi-kubernetes type token (``kubernetes:apps/v1:Deployment``; ``core/v1`` for the core group), named
``<namespace>/<name>``, so the packs judge it as they judge the same object in a preview.

YAML is read with yaml-rs (YAML 1.2, duplicate keys refused, timestamps kept as strings as Kubernetes
keeps them): PyYAML's C loader alone takes longer than the whole check on a thousand objects.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from lepton_infra.plan.model import Plan, PlanResource

SUFFIXES = (".yaml", ".yml", ".json")
STACK = "manifests"


class ManifestError(ValueError):
    """A manifest file that cannot be read; the message names the file and why."""


def _documents(path: Path, text: str) -> list[Any]:
    if path.suffix == ".json":
        try:
            return [json.loads(text)]
        except ValueError as e:
            raise ManifestError(f"{path} is not JSON: {e}") from None
    try:
        import yaml_rs

        loaded = yaml_rs.loads(text, parse_datetime=False)
    except ImportError:  # an install without the fast reader: PyYAML gives the same objects, slower
        import yaml

        try:
            loaded = list(yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
        except yaml.YAMLError as e:
            raise ManifestError(f"{path} is not YAML: {e}") from None
    except ValueError as e:
        raise ManifestError(f"{path} is not YAML: {str(e).splitlines()[0]}") from None
    return loaded if isinstance(loaded, list) else [loaded]


def _objects(document: Any, path: Path) -> Iterator[Mapping[str, Any]]:
    if document is None:
        return
    if not isinstance(document, Mapping):
        raise ManifestError(f"{path}: a document is a {type(document).__name__}, not a Kubernetes object")
    if document.get("kind") == "List" and isinstance(document.get("items"), list):
        for item in document["items"]:
            yield from _objects(item, path)
        return
    yield document


def type_token(obj: Mapping[str, Any]) -> str:
    """The pulumi-kubernetes type token of an object (``v1`` is the core group's ``core/v1``)."""
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str) or not api_version or not kind:
        raise ValueError("the object has no apiVersion or kind")
    group_version = api_version if "/" in api_version else f"core/{api_version}"
    return f"kubernetes:{group_version}:{kind}"


def _resource(obj: Mapping[str, Any], path: Path, seen: set[str]) -> PlanResource:
    try:
        token = type_token(obj)
    except ValueError as e:
        raise ManifestError(f"{path}: {e}") from None
    metadata = obj.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    name = str(metadata.get("name") or metadata.get("generateName") or path.stem)
    namespace = metadata.get("namespace")
    name = f"{namespace}/{name}" if namespace else name
    urn = f"urn:pulumi:{STACK}::{STACK}::{token}::{name}"
    if urn in seen:
        raise ManifestError(f"{path}: {token} {name} is defined twice")
    seen.add(urn)
    return PlanResource(urn=urn, type=token, name=name, custom=True, inputs=dict(obj))


def files_of(path: Path) -> list[Path]:
    """The manifest files ``path`` names: itself, or every manifest file below a folder, sorted."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())
    return [path]


def load_manifests(path: Path) -> Plan:
    """Every Kubernetes object in the file or folder ``path`` as a plan."""
    resources: list[PlanResource] = []
    seen: set[str] = set()
    for file in files_of(path):
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as e:
            raise ManifestError(f"cannot read {file}: {e.strerror or e}") from None
        except UnicodeDecodeError:
            raise ManifestError(f"{file} is not UTF-8 text") from None
        for document in _documents(file, text):
            resources.extend(_resource(obj, file, seen) for obj in _objects(document, file))
    return Plan(stack=STACK, resources=resources)


def is_manifest_json(data: Any) -> bool:
    """Whether parsed JSON is a Kubernetes object (or List) rather than a plan, preview or export."""
    return isinstance(data, Mapping) and isinstance(data.get("apiVersion"), str) and "kind" in data
