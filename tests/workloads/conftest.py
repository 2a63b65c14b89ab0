"""In-process workload tests never sleep through the store's retries: each retry waits no time at all.

Tests of the retry policy itself pass a ``Retry`` of their own. ``location`` is a checkpoint location on a
disk and in a bucket (fsspec's in-memory store), for the tests that must hold on both. Hugging Face's
``transformers`` is a fixture, imported by the tests that use it only.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import fsspec
import pytest

from workloads.checkpoint import faults


@pytest.fixture(autouse=True)
def _retries_do_not_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(faults, "DEFAULT_RETRY", faults.Retry(sleep=lambda _seconds: None))


@pytest.fixture(scope="session")
def transformers() -> ModuleType:
    """Hugging Face's transformers, imported only by the slow tests that ask for it: importing it takes
    about ten seconds, which a module-level import would charge to every run, slow tests deselected or not
    (collection imports the module either way)."""
    return pytest.importorskip("transformers")


@pytest.fixture(params=["local", "memory"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "local":
        yield str(tmp_path / "ckpt")
        return
    uri = f"memory://ckpt-{uuid.uuid4().hex}/run"
    yield uri
    with contextlib.suppress(FileNotFoundError):  # an object store has no folder once it is empty
        fsspec.filesystem("memory").rm(uri, recursive=True)
