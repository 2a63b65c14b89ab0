"""Policy results as text for people, JSON (the contract), SARIF 2.1.0 for code scanning, JUnit XML for CI.

Every renderer takes the violations of every pack it is given, the rules by name, and optionally where
each resource comes from (``sources.locate``: a stack-file line, or the program line that registered it):
text prints it beside each resource of a finding, JSON adds it to the finding (``location``: file and
line, where known) and SARIF writes it as the result's ``physicalLocation``; JUnit leaves it out. JSON
carries each finding's fix (the policy's remediation, ``Violation.fix``).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from lepton_infra.plan.model import Violation
from lepton_infra.plan.sources import WHOLE_STACK, SourceLocation

Locations = Mapping[str, SourceLocation]

SEVERITIES = ("critical", "high", "medium", "low")
_SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0"}


class PolicyInfo(Protocol):
    """What a report needs to know about a policy (``PolicyRule`` fits)."""

    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def remediation(self) -> str: ...


def summary(violations: Sequence[Violation]) -> dict[str, Any]:
    return {
        "total": len(violations),
        "blocking": sum(v.blocks for v in violations),
        "exempted": sum(v.exemption is not None for v in violations),
        "by_severity": {s: sum(v.severity == s for v in violations) for s in SEVERITIES},
        "by_enforcement": dict(Counter(v.enforcement for v in violations)),
    }


def _status(v: Violation) -> str:
    return f"exempt: {v.exemption}" if v.exemption is not None else v.enforcement


def render_json(
    violations: Sequence[Violation], _policies: Mapping[str, PolicyInfo], locations: Locations | None = None
) -> str:
    found = []
    for v in violations:
        entry = v.to_json()
        source = (locations or {}).get(v.urn or WHOLE_STACK)
        if source is not None:
            entry["location"] = source.to_json()
        found.append(entry)
    return json.dumps({"violations": found, "summary": summary(violations)}, indent=2)


def _text_group(
    violations: Sequence[Violation], policies: Mapping[str, PolicyInfo], locations: Locations
) -> list[str]:
    """One entry per policy (and status) with its count and fix, then the resources it found, each with
    its stack-file line where known: fifteen buckets missing one setting read as one finding, not fifteen."""
    lines: list[str] = []
    for severity in SEVERITIES:
        group = [v for v in violations if v.severity == severity]
        if not group:
            continue
        lines.append(f"{severity.upper()} ({len(group)})")
        by_policy: dict[tuple[str, str], list[Violation]] = {}
        for v in sorted(group, key=lambda v: (v.policy, v.urn or "")):
            by_policy.setdefault((v.policy, _status(v)), []).append(v)
        for (policy, status), found in by_policy.items():
            lines.append(f"  [{status}] {policy} ({len(found)})")
            messages = {v.message for v in found}
            shared = messages.pop() if len(messages) == 1 else None
            if shared is not None:
                lines.append(f"    problem:  {shared}")
            info = policies.get(policy)
            fix = info.remediation if info is not None else found[0].fix
            if fix:
                lines.append(f"    fix:      {fix}")
            for v in found:
                source = locations.get(v.urn or "")
                lines.append(f"    - {v.urn or '(stack)'}" + (f"  at {source}" if source else ""))
                if shared is None:
                    lines.append(f"      problem: {v.message}")
        lines.append("")
    return lines


def render_text(
    violations: Sequence[Violation], policies: Mapping[str, PolicyInfo], locations: Locations | None = None
) -> str:
    """Grouped by pack (security first, in the order the violations come), then by severity."""
    if not violations:
        return "No policy violations.\n"
    packs = list(dict.fromkeys(v.pack for v in violations))
    lines: list[str] = []
    for pack in packs:
        group = [v for v in violations if v.pack == pack]
        lines.append(f"== {pack}: {len(group)} violation(s), {sum(v.blocks for v in group)} blocking")
        lines += _text_group(group, policies, locations or {})
    s = summary(violations)
    lines.append(f"{s['total']} violation(s), {s['blocking']} blocking, {s['exempted']} exempted.")
    return "\n".join(lines) + "\n"


def _sarif_location(urn: str | None, locations: Locations) -> dict[str, Any]:
    """The resource as a logical location, and a physical one GitHub code scanning accepts: a URI relative
    to the repository root (``file://`` where the file lies outside it) and a 1-based ``startLine``.

    Code scanning refuses a whole upload when one result has no physical location ("locationFromSarifResult:
    expected artifact location", github/codeql-action#1738, forcedotcom/code-analyzer#1970): a finding no
    line is known for is put at the whole stack's location (``sources.WHOLE_STACK``) where there is one.
    """
    location: dict[str, Any] = {
        "logicalLocations": [{"fullyQualifiedName": urn or "stack", "kind": "resource"}]
    }
    source = locations.get(urn or WHOLE_STACK) or locations.get(WHOLE_STACK)
    if source is not None:
        uri = source.file.as_uri() if source.file.is_absolute() else source.file.as_posix()
        location["physicalLocation"] = {
            "artifactLocation": {"uri": uri},
            "region": {"startLine": max(source.line, 1)},
        }
    return location


def render_packs(violations: Sequence[Violation], packs: Mapping[str, int]) -> str:
    """One line per pack that ran: how many policies it has and what they found."""
    lines = []
    for pack, count in packs.items():
        found = [v for v in violations if v.pack == pack]
        lines.append(
            f"{pack} ({count} policies): {len(found)} violation(s), {sum(v.blocks for v in found)} blocking"
        )
    return "\n".join(lines) + "\n"


def render_sarif(
    violations: Sequence[Violation], policies: Mapping[str, PolicyInfo], locations: Locations | None = None
) -> str:
    rule_ids = sorted({v.policy for v in violations} | set(policies))
    index = {name: i for i, name in enumerate(rule_ids)}
    rules = []
    for name in rule_ids:
        info = policies.get(name)
        description = info.description if info else name
        severity = info.severity if info else "medium"
        rules.append(
            {
                "id": name,
                "name": name,
                "shortDescription": {"text": description},
                "help": {"text": info.remediation if info else description},
                "defaultConfiguration": {"level": _SARIF_LEVEL.get(severity, "warning")},
                "properties": {"security-severity": _SECURITY_SEVERITY.get(severity, "5.5")},
            }
        )
    results = []
    for v in violations:
        result: dict[str, Any] = {
            "ruleId": v.policy,
            "ruleIndex": index[v.policy],
            "level": _SARIF_LEVEL.get(v.severity, "warning"),
            "message": {"text": v.message},
            "locations": [_sarif_location(v.urn, locations or {})],
            "properties": {"enforcement": v.enforcement, "severity": v.severity, "pack": v.pack},
        }
        if v.exemption is not None:
            result["suppressions"] = [{"kind": "external", "justification": v.exemption}]
        results.append(result)
    log = {
        "$schema": _SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "lepton-infra",
                        "informationUri": "https://github.com/lepton-infra",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2)


def render_junit(
    violations: Sequence[Violation], policies: Mapping[str, PolicyInfo], _locations: Locations | None = None
) -> str:
    """One test case per policy: blocking violations fail it, advisory and exempt ones go to its output."""
    suite = ET.Element("testsuite", name="lepton-infra policies")
    failures = 0
    for name in sorted(set(policies) | {v.policy for v in violations}):
        case = ET.SubElement(suite, "testcase", classname=name.split("-", 1)[0], name=name)
        found = [v for v in violations if v.policy == name]
        blocking = [v for v in found if v.blocks]
        if blocking:
            failures += 1
            failure = ET.SubElement(
                case, "failure", message=f"{len(blocking)} mandatory violation(s)", type="mandatory"
            )
            failure.text = "\n".join(f"{v.urn or '(stack)'}: {v.message}" for v in blocking)
        others = [v for v in found if not v.blocks]
        if others:
            ET.SubElement(case, "system-out").text = "\n".join(
                f"[{_status(v)}] {v.urn or '(stack)'}: {v.message}" for v in others
            )
    suite.set("tests", str(len(suite)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


RENDERERS: dict[str, Callable[[Sequence[Violation], Mapping[str, PolicyInfo], Locations | None], str]] = {
    "text": render_text,
    "json": render_json,
    "sarif": render_sarif,
    "junit": render_junit,
}
