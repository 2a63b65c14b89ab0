"""Reading resource inputs as the analyzer hands them over: nested mappings wrapped by pulumi_policy's
unknown-checking proxy. Reading an unknown value raises ``UnknownValueError``; the analyzer turns that
into an advisory "can't run during preview" note, so a rule never fails on a value the cloud computes.

The path helpers themselves live in ``values`` (no pulumi_policy there); this module adds what only the
proxy path needs and keeps the names the security pack's rules import.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy.proxy import UnknownValueError

from lepton_infra.policies.values import as_list, get, is_true, policy_statements, tags_of

__all__ = ["UnknownValueError", "as_list", "get", "is_set", "is_true", "policy_statements", "tags_of"]


def is_set(props: Any, *path: str) -> bool:
    """True when the value exists, counting a value the cloud will compute later as set."""
    try:
        return get(props, *path) not in (None, "", [], {})
    except UnknownValueError:
        return True
