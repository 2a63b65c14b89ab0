"""Where checkpoint files live, behind one small protocol: a folder on a disk or a prefix in a bucket.

A location is a local path (or ``file://`` URI) or an object-store URI: ``s3://bucket/prefix``,
``az://container/prefix`` (or ``abfs://``), ``oss://bucket/prefix``. All go through fsspec, so the same
code lists, reads and removes everywhere; only the write differs, because only a file system can rename:

- local: the write goes to ``<name>.partial`` (torch refuses names starting with a dot), is fsynced, then
  renamed into place, so a kill at any instant leaves either the old set or the new file; a write that
  fails (a full disk included, at the write, the fsync or the rename) removes what it wrote.
- object store: one PUT (or a multipart upload, which is completed only at its end) makes an object appear
  whole or not at all, so the file is uploaded straight to its final name, from a local temporary file (in
  ``$TMPDIR``, which must hold one checkpoint). Never through a streaming fsspec file: those commit whatever
  they hold when closed, even when closed by an exception, which would publish a torn file.

Every failure of the store leaves here as one of the errors of ``workloads.checkpoint.errors``, sorted by
``faults`` (may pass, will not pass, no space); a file that is gone raises ``FileNotFoundError``. Nothing
here retries: the layout does. The object-store packages are optional (the images install them); without
one, every function here raises ``CheckpointStorageError`` with one line naming the package to install.
How requests are signed: ``workloads.checkpoint.credentials``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import posixpath
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, NoReturn, Protocol, cast

from fsspec import AbstractFileSystem  # type: ignore[import-untyped]
from fsspec.core import url_to_fs  # type: ignore[import-untyped]
from fsspec.implementations.local import LocalFileSystem  # type: ignore[import-untyped]
from fsspec.registry import known_implementations  # type: ignore[import-untyped]

from workloads.checkpoint.credentials import signing_options
from workloads.checkpoint.errors import CheckpointStorageError, missing_package, one_line
from workloads.checkpoint.faults import Watched, translate

Location = str | os.PathLike[str]

_PARTIAL = ".partial"


@dataclass(frozen=True)
class FreeSpace:
    """Room for the next checkpoint on ``where``, which holds the checkpoints or only stages them."""

    where: str
    free_bytes: int
    holds_checkpoints: bool


class CheckpointStorage(Protocol):
    """The files of one checkpoint folder, by name: all the layout needs from a disk or a bucket."""

    def names(self) -> list[str]:
        """Names of the files in the folder; none when nothing was written there yet."""
        ...

    def write(self, name: str, save: Callable[[IO[bytes]], None]) -> None:
        """Make ``name`` hold what ``save`` writes to the handle it gets: whole, or not at all."""
        ...

    def open(self, name: str) -> IO[bytes]:
        """``name``, open for reading; ``FileNotFoundError`` if it is gone."""
        ...

    def read_failed(self, name: str, error: BaseException) -> NoReturn:
        """Raise the one-line error for ``error``, which reading ``name`` raised part-way."""
        ...

    def remove(self, name: str) -> None:
        """Remove ``name``; one already gone is no error."""
        ...

    def size(self, name: str) -> int:
        """Bytes of ``name``."""
        ...

    def remove_folder(self) -> None:
        """Remove the folder itself once its files are removed; one that is gone, or not empty, stays as it is
        (a bucket prefix has no folder to remove)."""
        ...

    def free_space(self) -> FreeSpace:
        """Where the next write needs room, and how much it has."""
        ...

    def discard_partial_writes(self, pattern: str) -> None:
        """Remove what writes of names matching the glob ``pattern`` left behind when they were killed."""
        ...

    def check_writable(self) -> None:
        """Write and delete a probe; raise ``CheckpointStorageError`` (one line) saying why that fails."""
        ...


def open_storage(location: Location) -> CheckpointStorage:
    """The storage of the folder ``location``; no network I/O, so cheap at start-up.

    Raises ``CheckpointStorageError`` (one line) when its protocol is unknown or its package missing.
    """
    text = os.fspath(location)
    fs, root = _file_system(text, credentials=False)
    return LocalStorage(text, fs, root) if _is_local(fs) else ObjectStorage(text)


def open_file_storage(path: Location) -> tuple[CheckpointStorage, str]:
    """The storage of the folder holding the file ``path``, and the file's name in it."""
    text = os.fspath(path)
    fs, fs_path = _file_system(text, credentials=False)
    name = posixpath.basename(fs_path)
    if _is_local(fs):
        return LocalStorage(posixpath.dirname(text), fs, posixpath.dirname(fs_path)), name
    return ObjectStorage(posixpath.dirname(text)), name


def check_location(location: Location) -> None:
    """Raise ``CheckpointStorageError`` (one line) if ``location`` cannot hold checkpoints here: its
    protocol is unknown or its package missing, or it is a local file. No network I/O: cheap at start-up."""
    storage = open_storage(location)
    if isinstance(storage, LocalStorage) and os.path.exists(storage.root) and not os.path.isdir(storage.root):
        raise CheckpointStorageError(f"{storage.location}: exists and is not a folder")


def check_writable(location: Location) -> None:
    """Write and delete a probe under ``location``: the first checkpoint may be due hours from now.

    Raises ``CheckpointStorageError`` with one line saying why it cannot.
    """
    open_storage(location).check_writable()


class LocalStorage:
    """A folder on a local or mounted file system: written by atomic rename, made durable by fsync."""

    def __init__(self, location: str, fs: AbstractFileSystem, root: str) -> None:
        self.location = location  # as given: what messages name
        self.fs = fs
        self.root = root  # the folder's path on this machine

    def names(self) -> list[str]:
        return _names(self.fs, self.root, self.location)

    def write(self, name: str, save: Callable[[IO[bytes]], None]) -> None:
        final = posixpath.join(self.root, name)
        partial = final + _PARTIAL
        handle: Watched | None = None
        placed = False
        try:
            os.makedirs(self.root, exist_ok=True)
            with open(partial, "wb") as raw:
                handle = Watched(raw)
                save(cast(IO[bytes], handle))
                handle.flush()
                os.fsync(raw.fileno())
            os.replace(partial, final)
            placed = True
            # The rename is durable only once the directory entry itself is on disk.
            _fsync_directory(self.root)
        except BaseException as error:
            # Whole or nothing: neither the partial file nor a renamed one whose entry may not be durable.
            for leftover in (partial, final) if placed else (partial,):
                with contextlib.suppress(OSError):
                    os.remove(leftover)
            cause = handle.failure if handle is not None and handle.failure is not None else error
            if isinstance(cause, OSError):
                raise translate(self.location, f"write {name}", cause) from None
            raise  # not the disk's doing: a state torch cannot save, or an interrupt

    def open(self, name: str) -> IO[bytes]:
        try:
            return open(posixpath.join(self.root, name), "rb")
        except FileNotFoundError:
            raise
        except OSError as error:
            raise translate(self.location, f"read {name}", error) from None

    def read_failed(self, name: str, error: BaseException) -> NoReturn:
        raise translate(self.location, f"read {name}", error) from None

    def remove(self, name: str) -> None:
        try:
            os.remove(posixpath.join(self.root, name))
        except FileNotFoundError:  # removed by another process in the meantime
            pass
        except OSError as error:
            raise translate(self.location, f"remove {name}", error) from None

    def size(self, name: str) -> int:
        try:
            return os.stat(posixpath.join(self.root, name)).st_size
        except OSError as error:
            raise translate(self.location, f"read the size of {name}", error) from None

    def remove_folder(self) -> None:
        try:
            os.rmdir(self.root)
        except FileNotFoundError:
            pass
        except OSError as error:
            if error.errno != errno.ENOTEMPTY:  # written to again meanwhile: not ours to remove
                raise translate(self.location, "remove the folder", error) from None

    def free_space(self) -> FreeSpace:
        # The folder may not exist yet: its file system is that of its nearest existing parent.
        existing = self.root
        while not os.path.exists(existing) and posixpath.dirname(existing) != existing:
            existing = posixpath.dirname(existing)
        free = shutil.disk_usage(existing).free
        return FreeSpace(where=self.location, free_bytes=free, holds_checkpoints=True)

    def discard_partial_writes(self, pattern: str) -> None:
        # With one writer at a time, any partial file is one a killed writer left behind.
        for leftover in self.fs.glob(posixpath.join(self.root, pattern + _PARTIAL)):
            with contextlib.suppress(FileNotFoundError):
                self.fs.rm_file(leftover)

    def check_writable(self) -> None:
        def probe() -> None:
            self.fs.makedirs(self.root, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix="write-test-"):
                pass

        _probe(self.location, probe)


class ObjectStorage:
    """A prefix in an object store: each file uploaded whole, never renamed.

    Each operation resolves its file system anew: under RRSA that signs it with the credential current
    at the time (see ``credentials``); elsewhere fsspec hands back the instance it holds.
    """

    def __init__(self, location: str) -> None:
        self.location = location

    def names(self) -> list[str]:
        fs, root = _file_system(self.location)
        return _names(fs, root, self.location)

    def write(self, name: str, save: Callable[[IO[bytes]], None]) -> None:
        fs, root = _file_system(self.location)
        staging = tempfile.gettempdir()
        try:
            suffix = posixpath.splitext(name)[1]
            with tempfile.NamedTemporaryFile(prefix="checkpoint-", suffix=suffix) as spool:
                handle = Watched(cast(IO[bytes], spool))
                try:
                    save(cast(IO[bytes], handle))
                    handle.flush()
                except BaseException as error:
                    cause = handle.failure if handle.failure is not None else error
                    if isinstance(cause, OSError):
                        raise translate(self.location, f"stage {name}", cause, staging=staging) from None
                    raise
                try:
                    fs.put_file(spool.name, posixpath.join(root, name))
                except Exception as error:  # SDKs raise their own types (credentials, endpoints, throttling)
                    raise translate(self.location, f"upload {name}", error) from None
        except OSError as error:  # the spool itself could not be made (no space, no inode)
            raise translate(self.location, f"stage {name}", error, staging=staging) from None

    def open(self, name: str) -> IO[bytes]:
        fs, path = _file_system(posixpath.join(self.location, name))
        try:
            handle: IO[bytes] = fs.open(path, "rb")
        except FileNotFoundError:
            raise
        except Exception as error:
            raise translate(self.location, f"read {name}", error) from None
        return handle

    def read_failed(self, name: str, error: BaseException) -> NoReturn:
        raise translate(self.location, f"read {name}", error) from None

    def remove(self, name: str) -> None:
        fs, path = _file_system(posixpath.join(self.location, name))
        try:
            fs.rm_file(path)
        except FileNotFoundError:  # removed by another process in the meantime
            pass
        except Exception as error:
            raise translate(self.location, f"remove {name}", error) from None

    def size(self, name: str) -> int:
        fs, path = _file_system(posixpath.join(self.location, name))
        try:
            return int(fs.size(path))
        except Exception as error:
            raise translate(self.location, f"read the size of {name}", error) from None

    def remove_folder(self) -> None:
        pass  # a prefix exists only through its objects

    def free_space(self) -> FreeSpace:
        staging = tempfile.gettempdir()
        return FreeSpace(where=staging, free_bytes=shutil.disk_usage(staging).free, holds_checkpoints=False)

    def discard_partial_writes(self, pattern: str) -> None:
        pass  # an upload is whole or nothing: none is ever left half-done under its name

    def check_writable(self) -> None:
        fs, root = _file_system(self.location)

        def probe() -> None:
            path = posixpath.join(root, f"write-test-{uuid.uuid4().hex}")
            fs.pipe_file(path, b"")
            fs.rm_file(path)

        _probe(self.location, probe)


def _names(fs: AbstractFileSystem, root: str, location: str) -> list[str]:
    # fsspec caches listings per instance, and instances per process; another process writes here.
    fs.invalidate_cache(root)
    try:
        entries: list[str] = fs.ls(root, detail=False)
    except (FileNotFoundError, NotADirectoryError):  # nothing written yet
        return []
    except Exception as error:  # SDKs raise their own types for credentials, endpoints, permissions
        raise translate(location, "list checkpoints", error) from None
    return [posixpath.basename(entry.rstrip("/")) for entry in entries]


def _probe(location: str, probe: Callable[[], None]) -> None:
    try:
        probe()
    except Exception as error:  # SDKs raise their own types for credentials, endpoints, permissions
        raise translate(location, "write there", error) from None


def _fsync_directory(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _file_system(location: str, *, credentials: bool = True) -> tuple[AbstractFileSystem, str]:
    """The file system and path of ``location``; ``credentials=False`` skips fetching any (no network I/O)."""
    protocol = location.split("://", 1)[0]
    options: dict[str, Any] = signing_options(location, fetch=credentials)
    try:
        fs, path = url_to_fs(location, **options)
    except ImportError as error:
        # fsspec replaces the import error with a generic hint; its cause names the module really missing.
        package = known_implementations[protocol]["class"].split(".")[0]
        raise missing_package(location, f"{protocol}://", package, error.__cause__ or error) from None
    except ValueError as error:  # an unknown protocol, or options the package refuses
        raise CheckpointStorageError(f"{location}: {one_line(error)}") from None
    return fs, path


def _is_local(fs: AbstractFileSystem) -> bool:
    return isinstance(fs, LocalFileSystem)
