"""Reading resource inputs without pulumi_policy: paths into nested mappings, lists, booleans, documents.

Both packs read inputs through these helpers. Under the security pack's analyzer path the inputs are
pulumi_policy's unknown-checking proxies (``props`` adds what only that path needs); the neutral view
(``view``) hands rules plain values, where a value the cloud computes later is one of the engine's
unknown sentinels (``is_unknown``). Nothing here imports pulumi_policy, so the offline check of a pack
written on the neutral view starts without it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

# How a saved plan shows a secret: `pulumi preview --json` and our plan JSON print "[secret]"; a stack
# export keeps the engine's secret envelope, {SIGNATURE_KEY: SECRET_SIGNATURE, "ciphertext": ...} (or
# "plaintext" before encryption), which the loaders replace with the placeholder
# (pulumi/sdk/go/common/resource/properties.go, SigKey and SecretSig; apitype.SecretV1 in
# pulumi/sdk/go/common/apitype/core.go).
SIGNATURE_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270"
SECRET_PLACEHOLDER = "[secret]"

# The engine's placeholders for values not known before deployment, as they travel on the wire
# (pulumi/sdk/go/common/resource/plugin/rpc.go; the same strings pulumi_policy.proxy checks for).
# The names are pulumi_policy's (proxy._unknown_to_str), so a note reads the same from both runners.
# A secret is one of them: offline no rule can read it, so a rule that reads one is undecided as on a
# value the cloud computes later (a secret `vpcConfig` read as an empty object was a false finding).
UNKNOWN_KINDS = {
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7": "boolean",
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421": "number",
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9": "string",  # (and any output without a type)
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2": "Array",
    "030794c1-ac77-496b-92df-f27374a8bd58": "asset",
    "e48ece36-62e2-4504-bad9-02848725956a": "archive",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff": "Object",
    SECRET_PLACEHOLDER: "secret",
}
UNKNOWN_SENTINELS = frozenset(UNKNOWN_KINDS)


def is_unknown(value: Any) -> bool:
    """True for a value no rule can read before deployment: one the engine only knows then (an id, an
    ARN, a computed name), or a secret the saved plan does not show."""
    return isinstance(value, str) and value in UNKNOWN_SENTINELS


def is_secret(value: Any) -> bool:
    """True for a secret a saved plan shows only as a placeholder or ciphertext: no rule can read it."""
    if isinstance(value, Mapping):
        return bool(value.get(SIGNATURE_KEY) == SECRET_SIGNATURE)
    return bool(value == SECRET_PLACEHOLDER)


def conceal_secrets(value: Any) -> Any:
    """``value`` with every secret envelope replaced by the placeholder, in place inside dicts and lists
    (a loaded plan is never held twice). The loaders bound the nesting before this walks it."""
    if is_secret(value):
        return SECRET_PLACEHOLDER
    if value.__class__ is dict:
        for key, item in value.items():
            if item.__class__ is dict or item.__class__ is list:
                value[key] = conceal_secrets(item)
    elif value.__class__ is list:
        for index, item in enumerate(value):
            if item.__class__ is dict or item.__class__ is list:
                value[index] = conceal_secrets(item)
    return value


def unreadable(value: Any) -> str | None:
    """Why ``value`` cannot be read (a secret, an asset), or None: a rule reports that, never passes it."""
    if is_secret(value):
        return "it is a secret the plan does not show"
    if isinstance(value, Mapping) and SIGNATURE_KEY in value:
        return "it is an asset or archive, not a value"
    return None


def number(value: Any) -> str:
    """A number as a message shows it, the same from a plan (ints) and from the analyzer (doubles)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:g}"
    return str(value)


def as_float(value: Any) -> float | None:
    """A number given as a number or a numeric string, or None (unknown, missing or not a number)."""
    if isinstance(value, bool) or value is None or is_unknown(value):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _walk(props: Any, path: tuple[str | int, ...], stop_at_unknown: bool) -> Any:
    node = props
    for step in path:
        # Plain dicts and lists (what every loader and the analyzer's converter produce) take the fast
        # path; any other Mapping or Sequence the general one.
        kind = node.__class__
        if kind is dict:
            node = node.get(step) if step.__class__ is str else None
        elif kind is list:
            node = node[step] if step.__class__ is int and -1 < step < len(node) else None
        elif stop_at_unknown and kind is str and node in UNKNOWN_SENTINELS:
            return node
        elif isinstance(step, int):
            if not isinstance(node, Sequence) or isinstance(node, str) or step >= len(node):
                return None
            node = node[step]
        elif not isinstance(node, Mapping) or step not in node:
            return None
        else:
            node = node[step]
        if node is None:
            return None
    return node


def get(props: Any, *path: str | int, default: Any = None) -> Any:
    """The value at ``path`` below ``props``, or ``default`` where any step is missing."""
    found = _walk(props, path, False)
    return default if found is None else found


def read(props: Any, *path: str | int) -> Any:
    """Like ``get``, but an unknown value on the way is returned as it is (the path below it is unknown
    too), so a rule tells "not set" (None) from "not known yet" (``is_unknown``)."""
    return _walk(props, path, True)


def known(props: Any, *path: str | int, default: Any = None) -> Any:
    """Like ``get``, for a value a verdict turns on: one unknown during preview (at ``path`` or above it)
    raises ``UnknownRead``, so the rule is undecided instead of reading it as absent (an unknown add-on
    name read as "no such add-on" was a false finding)."""
    found = _walk(props, path, True)
    if is_unknown(found):
        raise UnknownRead(found, path)
    return default if found is None else found


def as_list(value: Any) -> list[Any]:
    if value.__class__ is list:
        return value
    if value is None:
        return []
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return [value]


def as_mapping(value: Any) -> Mapping[str, Any]:
    """``value`` where it is a mapping, else an empty one (an unknown or missing object reads as empty)."""
    return value if value.__class__ is dict or isinstance(value, Mapping) else {}


def is_true(value: Any) -> bool:
    """Booleans arrive as bools from programs and sometimes as strings from other tools' JSON."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "enabled", "enable", "on", "yes")
    return value is True


class Document:
    """An IAM / RAM policy document as a rule reads it: its statements, or why it cannot read them.

    A document the cloud computes later is ``unknown`` (the rule cannot decide yet); one that is a
    secret, not JSON, or not a policy document is ``problem`` (the rule reports it: a document it cannot
    read is never passed). An absent document has no statements and no problem.
    """

    __slots__ = ("problem", "statements", "unknown")

    def __init__(self, document: Any) -> None:
        self.statements: list[Mapping[str, Any]] = []
        self.unknown = False
        self.problem: str | None = None
        if document is None or document == "":
            return
        # A secret first: it is unknown to every other read, but a document a rule must judge and cannot
        # read is reported, never left undecided (an advisory note would let a blocking rule pass it).
        if (why := unreadable(document)) is not None:
            self.problem = f"cannot read the policy document: {why}"
            return
        if is_unknown(document):
            self.unknown = True
            return
        if isinstance(document, str):
            try:
                document = json.loads(document)
            except json.JSONDecodeError as e:
                self.problem = f"cannot read the policy document: not JSON ({e.msg})"
                return
        if not isinstance(document, Mapping):
            self.problem = f"cannot read the policy document: a {type(document).__name__}, not an object"
            return
        statements = get(document, "Statement")
        if is_unknown(statements):
            self.unknown = True
            return
        for statement in as_list(statements):
            if isinstance(statement, Mapping):
                self.statements.append(statement)
            else:
                self.problem = "cannot read the policy document: a statement is not an object"


def document_at(props: Any, *path: str | int) -> Any:
    """The policy document at ``path`` as the plan holds it, read past ``strict``'s view: a secret or
    unknown document comes back as its placeholder for ``Document`` to judge, instead of ending the rule
    as undecided (``is_unknown`` is true for both)."""
    while isinstance(props, (_StrictMapping, _StrictSequence)):
        props = props._target
    return read(props, *path)


def policy_statements(document: Any) -> list[Mapping[str, Any]]:
    """The statements of an IAM / RAM policy document given as JSON text or as an object."""
    return Document(document).statements


def tags_of(props: Any, key: str = "tags") -> dict[str, Any]:
    tags = get(props, key)
    return dict(tags) if isinstance(tags, Mapping) else {}


def is_set(props: Any, *path: str) -> bool:
    """True when the value exists, counting a value the cloud will compute later as set (an ARN of a
    key created in the same update is the key's, whatever it turns out to be)."""
    try:
        value = read(props, *path)
    except UnknownRead:
        return True
    return value not in (None, "", [], {})


class UnknownRead(Exception):
    """A rule read a value the engine only knows after deployment, through ``strict``'s view."""

    def __init__(self, sentinel: str, path: tuple[str | int, ...]) -> None:
        shown = ".".join(str(p) for p in path)
        if sentinel == SECRET_PLACEHOLDER:
            self.message = f"secret value at .{shown} can't be read from a saved plan"
        else:
            self.message = f"{UNKNOWN_KINDS[sentinel]} value at .{shown} can't be known during preview"
        super().__init__(self.message)


class _StrictMapping(Mapping[str, Any]):
    __slots__ = ("_path", "_sentinels", "_target")

    def __init__(
        self, target: Mapping[str, Any], path: tuple[str | int, ...], sentinels: frozenset[str]
    ) -> None:
        self._target = target
        self._path = path
        self._sentinels = sentinels

    def __getitem__(self, key: str) -> Any:
        return _strict(self._target[key], (*self._path, key), self._sentinels)

    def __iter__(self) -> Any:
        return iter(self._target)

    def __len__(self) -> int:
        return len(self._target)


class _StrictSequence(Sequence[Any]):
    __slots__ = ("_path", "_sentinels", "_target")

    def __init__(self, target: Sequence[Any], path: tuple[str | int, ...], sentinels: frozenset[str]) -> None:
        self._target = target
        self._path = path
        self._sentinels = sentinels

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return _strict(self._target[index], (*self._path, index), self._sentinels)

    def __len__(self) -> int:
        return len(self._target)


def _strict(value: Any, path: tuple[str | int, ...], sentinels: frozenset[str]) -> Any:
    if isinstance(value, str) and value in sentinels:
        raise UnknownRead(value, path)
    if isinstance(value, Mapping):
        return _StrictMapping(value, path, sentinels)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return _StrictSequence(value, path, sentinels)
    return value


def strict(props: Mapping[str, Any]) -> Mapping[str, Any]:
    """``props`` as pulumi_policy's unknown-checking proxy shows them: reading an unknown value raises
    ``UnknownRead``. For rules that judge one object as a whole (a cloud resource), where a verdict that
    read an unknown input is no verdict; pod rules read values and decide per container instead."""
    view: Mapping[str, Any] = _StrictMapping(props, (), UNKNOWN_SENTINELS)
    return view


_SECRETS = frozenset({SECRET_PLACEHOLDER})


def secrets_strict(props: Mapping[str, Any]) -> Mapping[str, Any]:
    """``props`` where reading a secret raises ``UnknownRead`` and a value unknown during preview reads as
    its sentinel. For rules that judge preview unknowns field by field (the operability pack) but must
    never read a secret as absent: a secret `instanceTypes` read as none was a false "no pool fits"."""
    view: Mapping[str, Any] = _StrictMapping(props, (), _SECRETS)
    return view
