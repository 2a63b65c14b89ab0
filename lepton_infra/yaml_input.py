"""Read a YAML file a user (or an attacker) wrote: once, bounded, every key once.

One pass over the parser's events (libyaml's C parser where PyYAML has it, ``yaml.CSafeLoader``) builds the
node tree, which gives both the values (the safe constructor) and each value's line (``StackConfig.line_of``).
On the way it refuses, each with the line it happened on:

- text that is not UTF-8 (Pulumi reads stack files as UTF-8) and files over ``MAX_BYTES``;
- a key written twice in one mapping, naming both lines (Pulumi's own YAML reader, go-yaml v3, refuses
  it too: "mapping key ... already defined at line N"; PyYAML would silently keep the last);
- nesting deeper than ``MAX_DEPTH``: libyaml's composer recurses on the C stack (a file of 100,000 ``[``
  crashed the interpreter with SIGSEGV here) and its scanner slows down quadratically with depth (100,000
  levels took 33 s just to scan), so the check runs while the events arrive and stops at the first level
  too deep;
- aliases that expand to more than ``MAX_ALIAS_NODES`` nodes beyond those written ("billion laughs": nine
  levels of ten aliases each are 10^9 nodes once expanded, though the file is under a kilobyte), and an
  alias to a collection that contains it (a recursive value no JSON config can hold).

Nothing here knows the platform: the same reader serves ``Pulumi.yaml`` and every stack file.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# A stack file is config, not data: the largest real ones are kilobytes. 64 MiB leaves room for
# generated files while keeping a hostile one from filling memory before it is even parsed.
MAX_BYTES = 64 * 1024 * 1024
# The platform config nests about ten levels (config, key, sites, a site, gpu_pools, a pool, node_labels
# ...); 64 is far above any real file and far below what libyaml's composer survives.
MAX_DEPTH = 64
# Nodes aliases may add beyond the nodes written. Reusing a pool definition a few times adds dozens.
MAX_ALIAS_NODES = 100_000

Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlInputError(ValueError):
    """A file that cannot be read as one safe YAML document; ``line`` is 1-based where known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.line = line
        super().__init__(message)


@dataclass(frozen=True)
class YamlDocument:
    """The values of a YAML file and the node tree they came from (for line numbers)."""

    value: Any
    root: yaml.Node | None = field(repr=False)


def read_yaml(path: Path) -> YamlDocument:
    """Read ``path`` as one YAML document; :class:`YamlInputError` (with a line) for anything refused."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise YamlInputError(f"cannot read: {error.strerror}") from None
    if len(data) > MAX_BYTES:
        raise YamlInputError(
            f"larger than {MAX_BYTES // (1024 * 1024)} MiB; a stack file is config, not data"
        )
    return parse_yaml(decode_utf8(data))


def decode_utf8(data: bytes) -> str:
    """The text of ``data``, or the line and column of its first byte that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise YamlInputError(
            f"not UTF-8: byte 0x{data[error.start]:02x} at column {column}; save the file as UTF-8", line
        ) from None


def parse_yaml(text: str) -> YamlDocument:
    """One YAML document from ``text``, parsed once; see the module's docstring for what is refused."""
    loader = Loader(text)
    # Parsing allocates two objects per node and frees none until the end: with the collector on, its passes
    # rescan every node made so far (bench/stack_parse.py's files, medians of 3: 5.2 MB 8.5 s with the
    # collector, 3.0 s without; 1 MB 0.83 s and 0.52 s). Nothing made here is cyclic garbage.
    collecting = gc.isenabled()
    gc.disable()
    try:
        root = _compose(loader)
        value = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        raise YamlInputError(
            f"malformed YAML: {error.problem or error.context or error}", mark.line + 1 if mark else None
        ) from None
    except yaml.YAMLError as error:  # the reader's errors (control characters) carry a position, no mark
        raise YamlInputError(f"malformed YAML: {error}") from None
    finally:
        loader.dispose()
        if collecting:
            gc.enable()
    return YamlDocument(value, root)


_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"


class _Open:
    """A collection whose end has not come yet."""

    __slots__ = ("anchor", "keys", "node", "pending_key", "size")

    def __init__(self, node: yaml.SequenceNode | yaml.MappingNode, anchor: str | None) -> None:
        self.node = node
        self.anchor = anchor
        self.size = 1  # nodes it stands for once aliases are expanded, itself included
        self.pending_key: yaml.ScalarNode | yaml.Node | None = None
        self.keys: dict[Any, int] | None = {} if isinstance(node, yaml.MappingNode) else None


def _compose(loader: Any) -> yaml.Node | None:  # PyYAML's loaders are untyped
    """The document's node tree from the parser's events, without recursion (libyaml's composer
    recurses), checking depth, aliases and duplicate keys as the events arrive."""
    loader.get_event()  # StreamStart
    if loader.check_event(yaml.StreamEndEvent):
        loader.get_event()
        return None
    loader.get_event()  # DocumentStart
    anchors: dict[str, tuple[yaml.Node, int]] = {}
    open_: list[_Open] = []
    written = 0  # nodes the file writes
    extra = 0  # nodes its aliases add once expanded
    root: yaml.Node | None = None
    resolve = loader.resolve
    get_event = loader.get_event
    while True:
        event = get_event()
        kind = type(event)
        node: yaml.Node
        size = 1
        written += 1
        if kind is yaml.ScalarEvent:
            tag = event.tag
            if tag is None or tag == "!":
                tag = resolve(yaml.ScalarNode, event.value, event.implicit)
            node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
            if event.anchor is not None:
                anchors[event.anchor] = (node, 1)
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            if len(open_) >= MAX_DEPTH:
                raise YamlInputError(f"nested deeper than {MAX_DEPTH} levels", event.start_mark.line + 1)
            node_type = yaml.MappingNode if kind is yaml.MappingStartEvent else yaml.SequenceNode
            tag = event.tag
            if tag is None or tag == "!":
                tag = resolve(node_type, None, event.implicit)
            open_.append(
                _Open(node_type(tag, [], event.start_mark, None, flow_style=event.flow_style), event.anchor)
            )
            continue
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            written -= 1
            frame = open_.pop()
            node, size = frame.node, frame.size
            node.end_mark = event.end_mark
            if frame.anchor is not None:
                anchors[frame.anchor] = (node, size)
        elif kind is yaml.AliasEvent:
            node, size = _alias(event, anchors, open_)
            extra += size - 1
            if extra > MAX_ALIAS_NODES:
                raise YamlInputError(
                    f"aliases expand to more than {MAX_ALIAS_NODES:,} nodes beyond the {written:,} written "
                    "(an alias bomb?); write the values out, or reuse less",
                    event.start_mark.line + 1,
                )
        else:  # DocumentEnd
            break
        if not open_:
            root = node
            continue
        parent = open_[-1]
        parent.size += size
        if parent.keys is None:
            parent.node.value.append(node)
        elif parent.pending_key is None:
            parent.pending_key = node
        else:
            key, parent.pending_key = parent.pending_key, None
            if type(key) is yaml.ScalarNode:
                _first_time(loader, parent.keys, key)
            parent.node.value.append((key, node))
    if not loader.check_event(yaml.StreamEndEvent):
        second = loader.get_event()
        raise YamlInputError(
            "more than one YAML document; a stack file holds one", second.start_mark.line + 1
        )
    return root


def _alias(
    event: Any, anchors: dict[str, tuple[yaml.Node, int]], open_: list[_Open]
) -> tuple[yaml.Node, int]:
    if event.anchor in anchors:
        return anchors[event.anchor]
    line = event.start_mark.line + 1
    if any(frame.anchor == event.anchor for frame in open_):
        raise YamlInputError(f"alias *{event.anchor} refers to a collection that contains it", line)
    raise YamlInputError(f"alias *{event.anchor} names no anchor written before it", line)


def _first_time(loader: Any, keys: dict[Any, int], key: yaml.ScalarNode) -> None:
    """Record a mapping's key, refusing one it already has (as the constructor would read them: `1` and
    `01` are one integer key, `yes` and `true` one boolean)."""
    if key.tag == _STR:
        identity: Any = key.value
    elif key.tag == _MERGE:
        identity = (_MERGE,)
    else:
        identity = (key.tag, loader.construct_object(key))
    line = key.start_mark.line + 1
    if identity in keys:
        raise YamlInputError(
            f"key {key.value!r} is written twice in one mapping: lines {keys[identity]} and {line}; keep one",
            line,
        )
    keys[identity] = line
