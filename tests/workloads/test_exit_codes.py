"""The README's exit statuses are generated from ``lepton_infra/contract.py`` and cannot drift from it.

Each status's meaning is the comment above its member in the contract; the README holds the block this
module renders, between two markers. When they differ the test fails with the block to paste; running
this file (``python tests/workloads/test_exit_codes.py``) prints it too.
"""

from __future__ import annotations

import ast
import io
import tokenize
from enum import IntEnum
from pathlib import Path

from lepton_infra.contract import CliExit, ServeExit, TrainExit

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "lepton_infra" / "contract.py"
README = ROOT / "README.md"
BEGIN, END = "<!-- exit-statuses:begin -->", "<!-- exit-statuses:end -->"
PROGRAMS: list[tuple[str, type[IntEnum]]] = [
    ("`lepton-infra`", CliExit),
    ("`python -m workloads.train` and its launcher (the training image's `torchrun`)", TrainExit),
    ("`python -m workloads.serve`", ServeExit),
]


def _meanings(enum: type[IntEnum]) -> dict[str, str]:
    """The comment lines right above each member of ``enum`` in the contract's source, joined."""
    source = CONTRACT.read_text()
    [body] = [
        node
        for node in ast.parse(source).body
        if isinstance(node, ast.ClassDef) and node.name == enum.__name__
    ]
    comments: dict[int, str] = {
        token.start[0]: token.string.lstrip("#").strip()
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    }
    meanings: dict[str, str] = {}
    for statement in body.body:
        if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name):
            lines, line = [], statement.lineno - 1
            while line in comments:
                lines.insert(0, comments[line])
                line -= 1
            meanings[statement.targets[0].id] = " ".join(lines)
    return meanings


def _docstring_notes(enum: type[IntEnum]) -> str:
    doc = (enum.__doc__ or "").split("\n\n", 1)
    return " ".join(doc[1].split()) if len(doc) > 1 else ""


def render() -> str:
    parts = [BEGIN]
    for title, enum in PROGRAMS:
        meanings = _meanings(enum)
        parts += ["", f"**{title}**", "", "| status | name | meaning |", "| --- | --- | --- |"]
        for member in enum:
            meaning = meanings[member.name].replace("|", "\\|").replace("``", "`")
            parts.append(f"| {member.value} | `{member.name}` | {meaning} |")
        if notes := _docstring_notes(enum):
            parts += ["", notes.replace("``", "`")]
    parts += ["", END]
    return "\n".join(parts)


def test_every_member_has_a_meaning_in_the_contract() -> None:
    for _, enum in PROGRAMS:
        meanings = _meanings(enum)
        assert {member.name for member in enum} == set(meanings)
        assert all(meanings.values()), [name for name, meaning in meanings.items() if not meaning]


def test_the_readme_documents_every_exit_status_as_the_contract_defines_it() -> None:
    text = README.read_text()
    assert BEGIN in text and END in text, f"the README has no {BEGIN} ... {END} block"
    documented = text[text.index(BEGIN) : text.index(END) + len(END)]
    expected = render()
    assert documented == expected, f"replace the README's block with:\n{expected}"


def test_no_two_statuses_of_a_program_share_a_number() -> None:
    for _, enum in PROGRAMS:
        assert len({member.value for member in enum}) == len(enum)


if __name__ == "__main__":
    print(render())
