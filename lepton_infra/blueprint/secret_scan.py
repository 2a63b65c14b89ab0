"""Secrets written into plain config: found, refused, and never repeated back.

Plain config ends up in clear text in the plan JSON, the manifests, the Pulumi state and every console
that shows tags or pod specs; a secret belongs in secret config (`pulumi config set --secret`). A value is
taken for a secret when its *name* says so (an environment variable, tag or annotation key, a
`--flag` before it) or its *text* matches a known credential format. Both come from detect-secrets (Yelp's
scanner, pinned in constraints.txt): the names are its keyword plugin's deny list plus the few words it
leaves to its entropy plugins (token, credential); the formats are its regex plugins (AWS keys, Azure
storage keys, basic-auth URLs, private keys, JWTs, GitHub/GitLab/Slack/Stripe/OpenAI ... tokens), found at
import time so a newer release brings its new plugins. Its entropy plugins are not used: image digests and
IDs would trip them. A false positive is waved through, field by field, with ``not_secrets``.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import re
from collections.abc import Iterator
from typing import Any

# Words detect-secrets' entropy plugins catch in code, but which name a credential in config as clearly as
# its keyword list does.
EXTRA_NAMES = ("token", "credentials?", "bearer", "session_?key", "sas_?token")
# detect-secrets' regex plugins that find something other than credentials.
NOT_CREDENTIALS = frozenset({"IPPublicDetector"})
REDACTED = "[redacted]"


@functools.cache
def _name_pattern() -> re.Pattern[str]:
    from detect_secrets.plugins.keyword import DENYLIST

    words = "|".join((*DENYLIST, *EXTRA_NAMES))
    # Whole words of the name, separators folded to `_` (AWS_SECRET_ACCESS_KEY, hf-token, apiKey): a
    # TOKENIZERS_PARALLELISM or a --tokenizer is no token.
    return re.compile(rf"(?:^|_)({words})(?:$|_)", re.IGNORECASE)


@functools.cache
def _detectors() -> tuple[Any, ...]:
    from detect_secrets import plugins
    from detect_secrets.plugins.base import RegexBasedDetector

    found = []
    for module_info in pkgutil.iter_modules(plugins.__path__):
        module = importlib.import_module(f"{plugins.__name__}.{module_info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, RegexBasedDetector)
                and value is not RegexBasedDetector
                and value.__module__ == module.__name__
                and value.__name__ not in NOT_CREDENTIALS
            ):
                found.append(value())
    return tuple(found)


def secret_name(name: str) -> str | None:
    """The word that makes ``name`` the name of a secret (None: it is not one)."""
    folded = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name.lstrip("-"))
    match = _name_pattern().search(re.sub(r"[-.\s/:]", "_", folded))
    return match.group(1).lower() if match else None


def credential_formats(text: str) -> list[str]:
    """The credential formats found in ``text`` (detect-secrets' secret types), none when it holds none."""
    return sorted({d.secret_type for d in _detectors() if next(iter(d.analyze_string(text)), None)})


def _found(text: str) -> Iterator[str]:
    for detector in _detectors():
        yield from (s for s in detector.analyze_string(text) if s)


def redact(text: str) -> str:
    """``text`` with every credential detect-secrets' formats find in it replaced by ``[redacted]``."""
    for secret in sorted(set(_found(text)), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def looks_like_kubeconfig(text: str) -> bool:
    """A kubeconfig's content rather than a path: YAML with its telltale keys, or PEM data."""
    markers = (
        "apiVersion:",
        "clusters:",
        "certificate-authority-data",
        "client-key-data",
        "token:",
        "-----BEGIN",
    )
    return "\n" in text or any(marker in text for marker in markers)


def why_secret(name: str | None, value: str) -> str | None:
    """Why a value (with the name it is written under, if any) looks like a secret; None if it does not.

    The value itself never appears in the answer.
    """
    if not value.strip():
        return None  # an empty value holds nothing, whatever its name
    reasons = []
    if name is not None and (word := secret_name(name)):
        reasons.append(f"its name says {word!r}")
    if formats := credential_formats(value):
        reasons.append(f"its value looks like: {', '.join(formats)}")
    return "; ".join(reasons) or None
