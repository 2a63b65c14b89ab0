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

# The engine's placeholders for values not known before deployment, as they travel on the wire
# (pulumi/sdk/go/common/resource/plugin/rpc.go; the same strings pulumi_policy.proxy checks for).
UNKNOWN_SENTINELS = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string (and any output without a type)
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
    }
)


def is_unknown(value: Any) -> bool:
    """True for a value the engine will only know after deployment (an id, an ARN, a computed name)."""
    return isinstance(value, str) and value in UNKNOWN_SENTINELS


def get(props: Any, *path: str | int, default: Any = None) -> Any:
    """The value at ``path`` below ``props``, or ``default`` where any step is missing."""
    node = props
    for step in path:
        if isinstance(step, int):
            if not isinstance(node, Sequence) or isinstance(node, str) or step >= len(node):
                return default
        elif not isinstance(node, Mapping) or step not in node:
            return default
        node = node[step]
        if node is None:
            return default
    return node


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return [value]


def as_mapping(value: Any) -> Mapping[str, Any]:
    """``value`` where it is a mapping, else an empty one (an unknown or missing object reads as empty)."""
    return value if isinstance(value, Mapping) else {}


def is_true(value: Any) -> bool:
    """Booleans arrive as bools from programs and sometimes as strings from other tools' JSON."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "enabled", "enable", "on", "yes")
    return value is True


def policy_statements(document: Any) -> list[Mapping[str, Any]]:
    """The statements of an IAM / RAM policy document given as JSON text or as an object."""
    if document is None or document == "":
        return []
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return []
    if not isinstance(document, Mapping):
        return []
    return [s for s in as_list(get(document, "Statement")) if isinstance(s, Mapping)]


def tags_of(props: Any, key: str = "tags") -> dict[str, Any]:
    tags = get(props, key)
    return dict(tags) if isinstance(tags, Mapping) else {}
