"""When the store fails: full disks, and failures that may pass told from those that will not.

Issue 15, item 6: a full disk during a checkpoint became a chained traceback, exit 1, a partial file and a
crash loop. Now: nothing partial is left, the error is one line (``no space left on <where>``), and where
the checkpoints themselves fill the disk, older ones (never the newest that loads) are removed and the
write tried once more. ENOSPC is injected at every point of a write: the bytes (a real ``ENOSPC`` from
``/dev/full``), the fsync, the rename, the directory's fsync, a quota (``EDQUOT``), the local staging of
an upload, and the upload itself.

Issue 15, item 7: ``load_checkpoint`` took every exception for a corrupt file and returned None, so a
network or credential error silently resumed from an older step (or served an older model). Now errors of
the store are retried while they may pass, then raised (``StorageUnavailable``), or raised at once when
they will not pass (``CheckpointStorageError``); only a file that was read and is not a checkpoint is
skipped. The store is fsspec's memory file system behind a ``flaky://`` protocol that fails on schedule,
at the listing, the open, part-way through a read, and the upload.
"""

from __future__ import annotations

import contextlib
import errno
import io
import logging
import os
import random
import struct
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import fsspec
import pytest
from checkpoint_fixtures import training_state
from fsspec.implementations.memory import MemoryFileSystem

from workloads.checkpoint import (
    CheckpointFolder,
    CheckpointStorageError,
    NoSpaceLeft,
    Retry,
    StorageUnavailable,
    checkpoint_path,
    list_steps,
    save_checkpoint,
    storage,
)
from workloads.checkpoint.faults import retrying
from workloads.checkpoint.storage import FreeSpace

GOOD = (10, 20, 30)


def _state(step: float) -> dict[str, object]:
    return training_state(step, width=64)


# -- the flaky store ----------------------------------------------------------------------------------


class _BreaksAfter(io.BytesIO):
    """A file whose reads fail with ``error`` once ``after`` bytes were read."""

    def __init__(self, data: bytes, after: int, error: BaseException) -> None:
        super().__init__(data)
        self._after, self._error = after, error

    def read(self, size: int | None = -1) -> bytes:
        position = self.tell()
        if position >= self._after:
            raise self._error
        if size is None or size < 0 or position + size > self._after:
            size = self._after - position
        return super().read(size)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class FlakyFileSystem(MemoryFileSystem):  # type: ignore[misc]
    """fsspec's memory file system, failing on schedule: ``faults[operation]`` is a queue of errors."""

    protocol = ("flaky",)
    store: ClassVar[dict[str, Any]] = {}
    pseudo_dirs: ClassVar[list[str]] = [""]
    faults: ClassVar[dict[str, list[BaseException]]] = {}
    calls: ClassVar[dict[str, int]] = {}
    read_after: ClassVar[int] = 0

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        return super()._strip_protocol(str(path).removeprefix("flaky://"))

    def _fault(self, operation: str) -> BaseException | None:
        self.calls[operation] = self.calls.get(operation, 0) + 1
        queue = self.faults.get(operation)
        return queue.pop(0) if queue else None

    def ls(self, path: str, detail: bool = False, **kwargs: Any) -> Any:
        if error := self._fault("list"):
            raise error
        return super().ls(path, detail=detail, **kwargs)

    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        if "r" not in mode:
            return super()._open(path, mode, **kwargs)
        if error := self._fault("open"):
            raise error
        handle = super()._open(path, mode, **kwargs)
        if error := self._fault("read"):
            return _BreaksAfter(handle.read(), self.read_after, error)
        return handle

    def put_file(self, lpath: str, rpath: str, **kwargs: Any) -> None:
        if error := self._fault("upload"):
            raise error
        super().put_file(lpath, rpath, **kwargs)


@pytest.fixture
def flaky() -> Iterator[type[FlakyFileSystem]]:
    fsspec.register_implementation("flaky", FlakyFileSystem, clobber=True)
    FlakyFileSystem.store.clear()
    FlakyFileSystem.pseudo_dirs[:] = [""]
    FlakyFileSystem.faults.clear()
    FlakyFileSystem.calls.clear()
    yield FlakyFileSystem
    FlakyFileSystem.faults.clear()


LOCATION = "flaky://bucket/run"


def _fill(location: str) -> None:
    for step in GOOD:
        save_checkpoint(location, step, _state(step), keep_last=len(GOOD))


# Errors of the store that may pass, as the SDKs raise them.
class ClientError(Exception):
    """Shaped like botocore's: the HTTP status in ``response``."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__(f"An error occurred ({code})")
        self.response = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}


class HttpResponseError(Exception):
    """Shaped like azure-core's: ``status_code``."""

    def __init__(self, status_code: int) -> None:
        super().__init__(f"Operation returned an invalid status {status_code}")
        self.status_code = status_code


class ServerDisconnectedError(Exception):
    """aiohttp's (not an OSError)."""


class NoCredentialsError(Exception):
    """botocore's, by name."""


class ClientAuthenticationError(HttpResponseError):
    """azure-core's, by name and status."""


PASSING: dict[str, Callable[[], BaseException]] = {
    "timeout": TimeoutError,
    "connection reset": ConnectionResetError,
    "EIO (s3fs's unplaced errors)": lambda: OSError(errno.EIO, "Input/output error"),
    "ETIMEDOUT": lambda: OSError(errno.ETIMEDOUT, "Connection timed out"),
    "ESTALE (NFS)": lambda: OSError(errno.ESTALE, "Stale file handle"),
    "S3 SlowDown 503": lambda: ClientError(503, "SlowDown"),
    "Azure 500": lambda: HttpResponseError(500),
    "server disconnected": ServerDisconnectedError,
}
REFUSED: dict[str, Callable[[], BaseException]] = {
    "permission denied": lambda: PermissionError(errno.EACCES, "Permission denied"),
    "S3 AccessDenied 403": lambda: ClientError(403, "AccessDenied"),
    "no credentials": NoCredentialsError,
    "Azure authentication 401": lambda: ClientAuthenticationError(401),
    "read-only file system": lambda: OSError(errno.EROFS, "Read-only file system"),
}
# Where the store fails on the way to the newest checkpoint: its listing, its opening, part-way through it.
READ_POINTS = {
    "list": 0,
    "open": 0,
    "read at the start": 0,
    "read after 100 bytes": 100,
    "read half-way": 2000,
}


def _schedule(flaky: type[FlakyFileSystem], point: str, errors: list[BaseException]) -> None:
    operation = point.split(" ", maxsplit=1)[0]
    flaky.faults[operation] = errors
    flaky.read_after = READ_POINTS[point]


@pytest.mark.parametrize("point", sorted(READ_POINTS))
@pytest.mark.parametrize("error", sorted(PASSING))
def test_a_failure_that_passes_is_retried_and_the_newest_checkpoint_still_wins(
    flaky: type[FlakyFileSystem], point: str, error: str, caplog: pytest.LogCaptureFixture
) -> None:
    _fill(LOCATION)
    _schedule(flaky, point, [PASSING[error](), PASSING[error]()])

    with caplog.at_level(logging.WARNING, logger="workloads.checkpoint"):
        state = CheckpointFolder(LOCATION).latest("training")

    assert state is not None and state["step"] == 30
    assert "trying again" in caplog.text and "skipping" not in caplog.text


@pytest.mark.parametrize("point", sorted(READ_POINTS))
@pytest.mark.parametrize("error", sorted(PASSING))
def test_a_failure_that_does_not_pass_is_raised_in_one_line_never_an_older_checkpoint(
    flaky: type[FlakyFileSystem], point: str, error: str
) -> None:
    _fill(LOCATION)
    _schedule(flaky, point, [PASSING[error]() for _ in range(100)])
    waits: list[float] = []

    with pytest.raises(StorageUnavailable) as raised:
        CheckpointFolder(LOCATION, retry=Retry(attempts=4, sleep=waits.append)).latest("training")

    message = str(raised.value)
    assert message.startswith(f"{LOCATION}: cannot ") and "(tried 4 times over" in message
    assert "\n" not in message and len(waits) == 3


@pytest.mark.parametrize("point", sorted(READ_POINTS))
@pytest.mark.parametrize("error", sorted(REFUSED))
def test_a_refusal_is_raised_at_once_without_retrying(
    flaky: type[FlakyFileSystem], point: str, error: str
) -> None:
    _fill(LOCATION)
    _schedule(flaky, point, [REFUSED[error]() for _ in range(100)])
    waits: list[float] = []

    with pytest.raises(CheckpointStorageError) as raised:
        CheckpointFolder(LOCATION, retry=Retry(sleep=waits.append)).latest("serving")

    assert not isinstance(raised.value, StorageUnavailable) and waits == []
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    "error", [*(PASSING[name]() for name in ("timeout", "S3 SlowDown 503")), REFUSED["S3 AccessDenied 403"]()]
)
def test_an_upload_that_fails_leaves_no_object_and_one_that_passes_is_retried(
    flaky: type[FlakyFileSystem], error: BaseException
) -> None:
    _fill(LOCATION)
    flaky.faults["upload"] = [error]
    refused = isinstance(error, ClientError) and error.response["Error"]["Code"] == "AccessDenied"

    with contextlib.nullcontext() if not refused else pytest.raises(CheckpointStorageError):
        save_checkpoint(LOCATION, 40, _state(40), keep_last=3)

    assert list_steps(LOCATION) == ([30, 20, 10] if refused else [40, 30, 20])
    assert not [p for p in FlakyFileSystem.store if "00000040" in p] or not refused


# Bytes that arrive whole and are not a checkpoint: skipped with a warning, the one before used.
def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]


def _flip_record(data: bytes, suffix: str) -> bytes:
    """Flip a byte in the middle of the first record of torch's archive whose name ends with ``suffix``
    (falling back to the pickle): a payload byte, not padding."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        info = next((i for i in infos if i.filename.endswith(suffix)), None)
        info = info or next(i for i in infos if i.filename.endswith("data.pkl"))
        archive.fp.seek(info.header_offset + 26)  # type: ignore[union-attr]
        name_length, extra_length = struct.unpack("<HH", archive.fp.read(4))  # type: ignore[union-attr]
    start = info.header_offset + 30 + name_length + extra_length
    return _flip(data, start + info.file_size // 2)


def _zip_of_something_else(_: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "not a checkpoint")
    return buffer.getvalue()


CORRUPT: dict[str, Callable[[bytes], bytes]] = {
    "empty": lambda d: b"",
    "one byte": lambda d: d[:1],
    "a tenth": lambda d: d[: len(d) // 10],
    "half": lambda d: d[: len(d) // 2],
    "all but the last byte": lambda d: d[:-1],
    "garbage": lambda d: os.urandom(len(d)),
    "zeros": lambda d: bytes(len(d)),
    # torch does not check the archive's CRC32s: these would load as wrong weights without our check.
    "a flipped byte in a tensor": lambda d: _flip_record(d, "data/0"),
    "a flipped byte in the pickle": lambda d: _flip_record(d, "data.pkl"),
    "the directory's signature broken": lambda d: _flip(d, len(d) - 22),
    "a zip of something else": _zip_of_something_else,
    "another file's bytes": lambda d: b"PK\x03\x04" + d[4:100],
}


@pytest.mark.parametrize("kind", ["model", "train"])
@pytest.mark.parametrize("damage", sorted(CORRUPT))
def test_a_corrupt_file_is_skipped_with_a_warning_and_the_one_before_is_used(
    tmp_path: Path, damage: str, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "ckpt"
    _fill(str(folder))
    path = Path(checkpoint_path(folder, 30, kind))  # type: ignore[arg-type]
    path.write_bytes(CORRUPT[damage](path.read_bytes()))

    with caplog.at_level(logging.WARNING, logger="workloads.checkpoint"):
        state = CheckpointFolder(folder).latest("training")

    assert state is not None and state["step"] == 20
    assert f"{path.name}" in caplog.text and "skipping" in caplog.text


# -- full disks -------------------------------------------------------------------------------------


def _no_space(code: int = errno.ENOSPC) -> OSError:
    return OSError(code, os.strerror(code))


def _once(error: OSError, real: Callable[..., Any]) -> Callable[..., Any]:
    """``real``, except that its first call raises ``error``."""
    calls = []

    def fake(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        if len(calls) == 1:
            raise error
        return real(*args, **kwargs)

    return fake


def _always(error: OSError) -> Callable[..., Any]:
    def fake(*args: Any, **kwargs: Any) -> Any:
        raise error

    return fake


class _FullFile(io.FileIO):
    """A file whose writes fail as a full quota does (EDQUOT)."""

    def write(self, data: Any) -> int:
        raise _no_space(errno.EDQUOT)


def _inject_local(point: str, monkeypatch: pytest.MonkeyPatch, folder: Path, step: int, once: bool) -> None:
    """Make the local write of checkpoint ``step`` run out of space at ``point``."""
    wrap = (lambda real: _once(_no_space(), real)) if once else (lambda real: _always(_no_space()))
    if point == "write (/dev/full)":
        for kind in ("model", "train") if not once else ("model",):
            Path(checkpoint_path(folder, step, kind) + ".partial").symlink_to("/dev/full")  # type: ignore[arg-type]
    elif point == "quota (EDQUOT)":
        real_open = open

        def fake_open(path: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            if "w" in mode and str(path).endswith(".partial") and (not once or not fake_open.used):  # type: ignore[attr-defined]
                fake_open.used = True  # type: ignore[attr-defined]
                return _FullFile(path, "w")
            return real_open(path, mode, *args, **kwargs)

        fake_open.used = False  # type: ignore[attr-defined]
        monkeypatch.setattr(storage, "open", fake_open, raising=False)
    elif point == "fsync":
        monkeypatch.setattr(storage.os, "fsync", wrap(os.fsync))
    elif point == "rename":
        monkeypatch.setattr(storage.os, "replace", wrap(os.replace))
    elif point == "directory fsync":
        monkeypatch.setattr(storage, "_fsync_directory", wrap(storage._fsync_directory))


LOCAL_POINTS = ["write (/dev/full)", "quota (EDQUOT)", "fsync", "rename", "directory fsync"]


def _leftovers(folder: Path, step: int) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if f"{step:08d}" in p.name or p.name.endswith(".partial"))


@pytest.mark.parametrize("point", LOCAL_POINTS)
def test_a_full_disk_leaves_nothing_partial_and_says_so_in_one_line(
    tmp_path: Path, point: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "ckpt"
    _fill(str(folder))
    _inject_local(point, monkeypatch, folder, 40, once=False)

    with pytest.raises(NoSpaceLeft) as raised:
        CheckpointFolder(folder).save(40, _state(40), keep_last=3)
    monkeypatch.undo()

    message = str(raised.value)
    assert message.startswith(f"no space left on {folder}") and "\n" not in message
    assert "even after removing" in message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    assert _leftovers(folder, 40) == []
    # Older checkpoints made room for the retry, but the newest that loads is never among them.
    assert list_steps(folder) == [30]
    state = CheckpointFolder(folder).latest("training")
    assert state is not None and state["step"] == 30


@pytest.mark.parametrize("point", LOCAL_POINTS)
def test_a_full_disk_that_older_checkpoints_were_filling_is_freed_and_the_write_succeeds(
    tmp_path: Path, point: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "ckpt"
    _fill(str(folder))
    _inject_local(point, monkeypatch, folder, 40, once=True)

    with caplog.at_level(logging.WARNING, logger="workloads.checkpoint"):
        CheckpointFolder(folder).save(40, _state(40), keep_last=3)

    assert list_steps(folder) == [40, 30]
    assert "to make room for step 40" in caplog.text
    assert not [p for p in folder.iterdir() if p.name.endswith(".partial")]


@pytest.mark.parametrize("point", ["staging write (/dev/full)", "staging file creation"])
def test_a_full_staging_folder_names_it_and_removes_nothing_from_the_bucket(
    point: str, monkeypatch: pytest.MonkeyPatch, flaky: type[FlakyFileSystem]
) -> None:
    _fill(LOCATION)
    flaky.calls.clear()

    def full_spool(*args: Any, **kwargs: Any) -> Any:
        if point == "staging file creation":
            raise _no_space()
        return open("/dev/full", "w+b")

    monkeypatch.setattr(storage.tempfile, "NamedTemporaryFile", full_spool)

    with pytest.raises(NoSpaceLeft) as raised:
        save_checkpoint(LOCATION, 40, _state(40))

    monkeypatch.undo()
    staging = storage.tempfile.gettempdir()
    assert str(raised.value) == f"no space left on {staging} (where checkpoints for {LOCATION} are staged)"
    assert not raised.value.holds_checkpoints
    assert list_steps(LOCATION) == [30, 20, 10]
    assert flaky.calls.get("upload", 0) == 0


def test_a_bucket_over_its_quota_is_freed_of_older_checkpoints_and_the_upload_tried_again(
    flaky: type[FlakyFileSystem],
) -> None:
    _fill(LOCATION)
    flaky.faults["upload"] = [_no_space()]

    save_checkpoint(LOCATION, 40, _state(40), keep_last=3)

    assert list_steps(LOCATION) == [40, 30]


def _free_space(folder: CheckpointFolder, per_checkpoint: int, free_after: Callable[[int], int]) -> None:
    """Make the folder's free space depend on how many checkpoints remain."""

    def free_space() -> FreeSpace:
        return FreeSpace(str(folder.location), free_after(len(folder.steps())), holds_checkpoints=True)

    folder._storage.free_space = free_space  # type: ignore[method-assign]


def test_before_training_a_disk_too_full_for_the_next_checkpoint_is_freed_of_older_ones(
    tmp_path: Path,
) -> None:
    folder = CheckpointFolder(tmp_path)
    _fill(str(tmp_path))
    _free_space(folder, 1000, lambda remaining: 1000 * (3 - remaining))

    folder.ensure_room(30, need_bytes=1500)

    assert folder.steps() == [30]


def test_before_training_a_disk_that_stays_too_full_fails_at_once_in_one_line(tmp_path: Path) -> None:
    folder = CheckpointFolder(tmp_path)
    _fill(str(tmp_path))
    _free_space(folder, 1000, lambda remaining: 10)

    with pytest.raises(
        NoSpaceLeft, match=rf"^no space left on {tmp_path}: 10 bytes free, a checkpoint takes"
    ):
        folder.ensure_room(30, need_bytes=5 * 1024 * 1024)

    assert folder.steps() == [30]


# -- the retry policy -------------------------------------------------------------------------------


def test_backoff_doubles_up_to_its_ceiling_with_bounded_jitter() -> None:
    delays = list(Retry(attempts=6, first_delay_s=1.0, max_delay_s=4.0).delays())

    assert len(delays) == 5
    for delay, nominal in zip(delays, [1, 2, 4, 4, 4], strict=True):
        assert 0.8 * nominal <= delay <= 1.2 * nominal


def test_retrying_leaves_the_global_random_state_alone() -> None:
    # The trainer checkpoints random's state; a retry during a checkpoint must not move it.
    random.seed(7)
    before = random.getstate()
    failures = [StorageUnavailable("x"), StorageUnavailable("x")]

    def call() -> int:
        if failures:
            raise failures.pop()
        return 1

    assert retrying(Retry(sleep=lambda _s: None), call) == 1
    assert random.getstate() == before
