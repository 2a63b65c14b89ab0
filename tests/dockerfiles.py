"""What an image's Dockerfile takes from the repository, read from its instructions (shared by the tests
that prove each image carries every module it imports)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def instructions(dockerfile: Path, keyword: str) -> list[str]:
    """The arguments of each ``keyword`` instruction, continuation lines joined."""
    text = dockerfile.read_text().replace("\\\n", " ")
    return [line.split(None, 1)[1] for line in text.splitlines() if line.split(None, 1)[:1] == [keyword]]


def copied_files(dockerfile: Path) -> set[Path]:
    """Files of the repository the Dockerfile's COPY instructions take from the build context."""
    copied: set[Path] = set()
    for arguments in instructions(dockerfile, "COPY"):
        if arguments.startswith("--from="):
            continue
        for source in arguments.split()[:-1]:
            path = ROOT / source
            copied |= set(path.rglob("*.py")) if path.is_dir() else {path}
    return copied
