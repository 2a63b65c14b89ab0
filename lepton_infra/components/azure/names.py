"""Names for Azure resources whose names are global (vaults, registries, storage accounts).

Such names must be unique across Azure and follow per-service character rules, so they are derived
from the component's name plus a stable hash of it: the same stack always gets the same name.
"""

from __future__ import annotations

import hashlib
import re


def global_name(name: str, *, max_length: int, alphanumeric: bool = False) -> str:
    """A lowercase name of at most ``max_length`` characters ending in 6 hash characters.

    ``alphanumeric`` drops hyphens, as registries and storage accounts require.
    """
    suffix = hashlib.sha256(name.encode()).hexdigest()[:6]
    allowed = r"[^a-z0-9]" if alphanumeric else r"[^a-z0-9-]"
    stem = re.sub(allowed, "", name.lower())
    if not stem[:1].isalpha():
        stem = "l" + stem
    stem = stem[: max_length - len(suffix) - (0 if alphanumeric else 1)].rstrip("-")
    return f"{stem}{suffix}" if alphanumeric else f"{stem}-{suffix}"
