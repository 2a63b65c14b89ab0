"""Bad user input, reported the same way wherever it is found: the file, each field path, the line.

The stack config (``lepton-infra validate``, ``plan``, the Pulumi program) and the policy pack config
(``--policy-config``, ``LEPTON_POLICY_CONFIG``) both raise ``ConfigError``. This module imports nothing of
ours, so every layer (the spec, the policy pack, the offline engine, the CLI) may use it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

PathPart = str | int


@dataclass(frozen=True)
class ConfigIssue:
    path: str
    message: str
    line: int | None = None


class ConfigError(Exception):
    """Bad configuration: every issue found, each with its field path and (where known) line."""

    def __init__(self, source: str, issues: Sequence[ConfigIssue]) -> None:
        self.source = source
        self.issues = list(issues)
        super().__init__(self.render())

    def render(self) -> str:
        lines = [f"invalid configuration in {self.source} ({len(self.issues)} problem(s)):"]
        for issue in self.issues:
            where = f"{self.source}:{issue.line}" if issue.line else self.source
            lines.append(f"  {where}: {issue.path}: {issue.message}")
        return "\n".join(lines)


def render_warnings(source: str, issues: Sequence[ConfigIssue]) -> str:
    """Advice on a valid config, one line each, in the same ``file:line: path: message`` form as errors."""
    return "\n".join(
        f"warning: {f'{source}:{issue.line}' if issue.line else source}: {issue.path}: {issue.message}"
        for issue in issues
    )


def format_path(parts: Sequence[PathPart]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def parse_path(path: str) -> list[PathPart]:
    return [int(index) if index else name for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path)]
