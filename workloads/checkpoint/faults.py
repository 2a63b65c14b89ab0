"""Which store failures may pass and which will not, and how long to keep trying before saying so.

The line every object-store client draws (botocore's and azure-core's retry policies, fsspec's own): a
request that was refused (permission, credentials, a read-only file system: HTTP 401/403, ``EACCES``,
``EROFS``) is refused again on every retry, and so is a path that cannot be (``EEXIST``, ``ENOTDIR`` ...);
anything else (timeouts, dropped connections, throttling, 5xx, ``EIO``, ``ESTALE`` on NFS, an SDK error we
cannot place) may pass, so it is retried with exponential backoff and jitter, and only then reported. Full
disks are their own case: ``NoSpaceLeft``.

A file object wrapped in ``Watched`` remembers the first error its own calls raised, so that an error of the
store can be told from one of the bytes after ``torch.save`` or ``torch.load`` have wrapped it in their own
``RuntimeError`` (they do: a failed write surfaces as "unexpected pos 64 vs 0").
"""

from __future__ import annotations

import errno
import logging
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, TypeVar

from workloads.checkpoint.errors import CheckpointStorageError, NoSpaceLeft, StorageUnavailable, one_line

log = logging.getLogger(__name__)

T = TypeVar("T")

_NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
# OS errors that may pass: the rest (EACCES, EROFS, EEXIST, ENOTDIR, EISDIR, ENAMETOOLONG ...) will not.
# s3fs reports the S3 errors it cannot place as EIO.
_PASSING_ERRNOS = frozenset(
    {
        errno.EIO,
        errno.ESTALE,
        errno.ETIMEDOUT,
        errno.EAGAIN,
        errno.EBUSY,
        errno.EINTR,
        errno.ENOLCK,
        errno.EPIPE,
        errno.ENOTCONN,
        errno.ECONNRESET,
        errno.ECONNREFUSED,
        errno.ECONNABORTED,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ENETDOWN,
    }
)
_REFUSED_STATUSES = frozenset({401, 403})
# SDK error classes that mean "you may not", whatever their base class (botocore's NoCredentialsError,
# azure-core's ClientAuthenticationError, oss2's AccessDenied, s3fs's translated ones ...).
_REFUSED_NAMES = re.compile(
    r"NoCredentials|PartialCredentials|Authenticat|AccessDenied|Forbidden|Unauthori[sz]ed"
    r"|InvalidAccessKeyId|SignatureDoesNotMatch"
)
# Whose errors a file wrapped in Watched records: the calls through which bytes come and go.
_WATCHED_CALLS = frozenset({"read", "readinto", "readline", "write", "flush", "seek", "tell", "close"})


def is_no_space(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno in _NO_SPACE_ERRNOS


def is_permanent(error: BaseException) -> bool:
    """True when retrying cannot help: the store refused the request, or the path cannot be used."""
    for cause in _chain(error):
        if isinstance(cause, PermissionError):  # s3fs raises it for AccessDenied without an errno
            return True
        if isinstance(cause, OSError) and cause.errno is not None and cause.errno not in _PASSING_ERRNOS:
            return True
        if _http_status(cause) in _REFUSED_STATUSES or _REFUSED_NAMES.search(type(cause).__name__):
            return True
    return False


def translate(location: str, doing: str, error: BaseException, *, staging: str | None = None) -> Exception:
    """The one-line error for a store failure: ``NoSpaceLeft``, ``CheckpointStorageError`` (will not pass)
    or ``StorageUnavailable`` (may pass). ``staging``: the local folder a write goes through, if any."""
    if is_no_space(error):
        where = staging or location
        detail = f" (where checkpoints for {location} are staged)" if staging else ""
        return NoSpaceLeft(f"no space left on {where}{detail}", where=where, holds_checkpoints=not staging)
    reason = getattr(error, "strerror", None) if isinstance(error, OSError) else None
    message = f"{location}: cannot {doing}: {reason or f'{type(error).__name__}: {one_line(error)}'}"
    return CheckpointStorageError(message) if is_permanent(error) else StorageUnavailable(message)


@dataclass(frozen=True)
class Retry:
    """Exponential backoff with jitter: ``attempts`` tries, waiting ``first_delay_s``, twice that ... at most
    ``max_delay_s`` between them (about a minute in all by default)."""

    attempts: int = 7
    first_delay_s: float = 1.0
    max_delay_s: float = 30.0
    sleep: Callable[[float], object] = time.sleep
    # A private generator: the trainer checkpoints the global one's state and must not see it move.
    jitter: random.Random = field(default_factory=random.Random, compare=False)

    def delays(self) -> Iterator[float]:
        delay = self.first_delay_s
        for _ in range(self.attempts - 1):
            yield min(delay, self.max_delay_s) * self.jitter.uniform(0.8, 1.2)
            delay *= 2


DEFAULT_RETRY = Retry()


def retrying(retry: Retry, call: Callable[[], T]) -> T:
    """``call()``, tried again after each ``StorageUnavailable``; the last one is raised with the count."""
    waited = 0.0
    for attempt, delay in enumerate(retry.delays(), start=1):
        try:
            return call()
        except StorageUnavailable as error:
            log.warning("%s; trying again in %.1f s (%d of %d tries)", error, delay, attempt, retry.attempts)
        retry.sleep(delay)
        waited += delay
    try:
        return call()
    except StorageUnavailable as error:
        raise StorageUnavailable(f"{error} (tried {retry.attempts} times over {waited:.0f} s)") from None


class Watched:
    """A file object that remembers the first error its reads, writes or seeks raised (``failure``).

    Not an invalid argument (``EINVAL``, ``ValueError``): that is the reader's doing, not the store's, as when
    ``zipfile`` seeks 22 bytes before the end of a file shorter than that to look for its directory.
    """

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.failure: BaseException | None = None

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._raw, name)
        if name not in _WATCHED_CALLS:
            return attribute

        def watched(*args: Any, **kwargs: Any) -> Any:
            try:
                return attribute(*args, **kwargs)
            except Exception as error:
                if self.failure is None and not _invalid_argument(error):
                    self.failure = error
                raise

        return watched


def _invalid_argument(error: BaseException) -> bool:
    return isinstance(error, ValueError) or (isinstance(error, OSError) and error.errno == errno.EINVAL)


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _http_status(error: BaseException) -> int | None:
    response = getattr(error, "response", None)  # botocore's ClientError
    if isinstance(response, dict):
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if isinstance(status, int):
            return status
    for name in ("status_code", "status"):  # azure-core, aiohttp, oss2
        status = getattr(error, name, None)
        if isinstance(status, int) and 100 <= status <= 599:
            return status
    return None
