"""Checkpoint files shared by the trainer (writes) and the server (reads), on a disk or in a bucket.

Layout: ``<location>/step-00000042.pt``, each a ``torch.save`` of a dict with at least ``"step"`` (int),
``"model_config"`` (``ModelConfig.to_dict()``) and ``"model"`` (state dict); the trainer adds optimizer,
scheduler, data position and RNG states.

A location is a local path (or ``file://`` URI) or an object-store URI: ``s3://bucket/prefix``,
``az://container/prefix`` (or ``abfs://``), ``oss://bucket/prefix``. All go through fsspec, so the same
code lists, loads and prunes everywhere; only the write differs, because only a file system can rename:

- local: the write goes to ``step-N.pt.partial`` (torch refuses names starting with a dot), is fsynced,
  then renamed into place, so a kill at any instant leaves either the old set or the new file.
- object store: one PUT (or a multipart upload, which is completed only at its end) makes an object appear
  whole or not at all, so the checkpoint is uploaded straight to its final name, from a local temporary
  file (in ``$TMPDIR``, which must hold one checkpoint). Never through a streaming fsspec file: those
  commit whatever they hold when closed, even when closed by an exception, which would publish a torn file.

The object-store packages are optional (the images install them). Without one, every function here raises
``CheckpointStorageError`` with one line naming the package to install.

Credentials come from the pod's workload identity; each package's SDK reads it from the environment:

- ``s3://`` (s3fs, botocore): IRSA's ``AWS_ROLE_ARN`` and ``AWS_WEB_IDENTITY_TOKEN_FILE``, which EKS's pod
  identity webhook injects; nothing else to set.
- ``az://``, ``abfs://`` (adlfs): the storage account from ``AZURE_STORAGE_ACCOUNT_NAME`` (or from a URI
  of the form ``abfs://container@account.blob.core.windows.net/prefix``), and ``AZURE_STORAGE_ANON=false``:
  without it adlfs connects anonymously. It then authenticates with azure-identity's
  ``DefaultAzureCredential``, whose workload-identity credential reads ``AZURE_CLIENT_ID``,
  ``AZURE_TENANT_ID``, ``AZURE_FEDERATED_TOKEN_FILE`` and ``AZURE_AUTHORITY_HOST``, which AKS's workload
  identity webhook injects into pods labelled ``azure.workload.identity/use: "true"``.
- ``oss://`` (ossfs, oss2): ``OSS_ENDPOINT`` (``https://oss-<region>-internal.aliyuncs.com`` from inside
  the region). ossfs signs only with credentials passed to it, so under RRSA (ACK's
  ack-pod-identity-webhook injects ``ALIBABA_CLOUD_ROLE_ARN``, ``ALIBABA_CLOUD_OIDC_PROVIDER_ARN`` and
  ``ALIBABA_CLOUD_OIDC_TOKEN_FILE``) this module exchanges the pod's OIDC token for an STS credential with
  alibabacloud-credentials (``oidc_role_arn``, which also reads ``ALIBABA_CLOUD_ROLE_SESSION_NAME``,
  ``ALIBABA_CLOUD_STS_REGION`` and ``ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED``) and passes it as
  ``key``/``secret``/``token``, current for each operation: it lasts an hour, a run lasts days.
  Without RRSA nothing is passed, and fsspec's own configuration (``FSSPEC_OSS_KEY`` ... or
  ``FSSPEC_OSS='{"key": ...}'``) can hand static credentials over.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import posixpath
import re
import tempfile
import uuid
from typing import Any

import torch
from fsspec import AbstractFileSystem  # type: ignore[import-untyped]
from fsspec.core import url_to_fs  # type: ignore[import-untyped]
from fsspec.implementations.local import LocalFileSystem  # type: ignore[import-untyped]
from fsspec.registry import known_implementations  # type: ignore[import-untyped]

log = logging.getLogger(__name__)

Location = str | os.PathLike[str]

_NAME = re.compile(r"^step-(\d{8,})\.pt$")

# What ACK's ack-pod-identity-webhook injects into a pod whose service account has a RAM role (RRSA).
_RRSA_VARIABLES = (
    "ALIBABA_CLOUD_ROLE_ARN",
    "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
    "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
)
# Where a failed exchange's message shows the request's URL, its query carries the pod's OIDC token.
_OIDC_TOKEN = re.compile(r"(OIDCToken=)[^&\s]+")


class CheckpointStorageError(Exception):
    """The checkpoint location cannot be used here (unknown protocol, missing package, not writable)."""


def checkpoint_path(directory: Location, step: int) -> str:
    """Where the checkpoint of ``step`` lives under ``directory``, in the same form (path or URI)."""
    return posixpath.join(os.fspath(directory), f"step-{step:08d}.pt")


def list_checkpoints(directory: Location) -> list[str]:
    """Complete checkpoints, newest step first (partial writes are never listed)."""
    fs, root = _file_system(directory)
    # fsspec caches listings per instance, and instances per process; another process writes here.
    fs.invalidate_cache(root)
    try:
        entries: list[str] = fs.ls(root, detail=False)
    except (FileNotFoundError, NotADirectoryError):  # nothing written yet
        return []
    except Exception as error:  # SDKs raise their own types for credentials, endpoints, permissions
        raise CheckpointStorageError(
            f"{os.fspath(directory)}: cannot list checkpoints: {type(error).__name__}: {_one_line(error)}"
        ) from None
    found = [(int(m.group(1)), m.group(0)) for e in entries if (m := _NAME.match(_basename(e)))]
    return [checkpoint_path(directory, step) for step, _ in sorted(found, reverse=True)]


def save_checkpoint(directory: Location, step: int, state: dict[str, Any], keep_last: int = 3) -> str:
    """Atomically write ``state`` as the checkpoint of ``step`` and prune to the newest ``keep_last``."""
    fs, root = _file_system(directory)
    final = posixpath.join(root, f"step-{step:08d}.pt")
    if _is_local(fs):
        _write_local(root, final, {**state, "step": step})
    else:
        _upload(fs, final, {**state, "step": step})
    for stale in list_checkpoints(directory)[max(keep_last, 1) :]:
        _remove(stale)
    if _is_local(fs):
        # A writer killed mid-write leaves its partial file behind; with one writer at a time, any is stale.
        for leftover in fs.glob(posixpath.join(root, "step-*.pt.partial")):
            fs.rm_file(leftover)
    return checkpoint_path(directory, step)


def load_checkpoint(path: Location, map_location: str | torch.device = "cpu") -> dict[str, Any] | None:
    """The checkpoint at ``path``, or None (with a warning) when it is missing, corrupt or not ours."""
    fs, fs_path = _file_system(path)
    try:
        if _is_local(fs):
            state: dict[str, Any] = torch.load(fs_path, map_location=map_location, weights_only=False)
        else:
            with fs.open(fs_path, "rb") as handle:
                state = torch.load(handle, map_location=map_location, weights_only=False)
    except Exception as error:  # a truncated or garbled file raises many different errors
        log.warning("skipping unreadable checkpoint %s: %s", os.fspath(path), error)
        return None
    if not isinstance(state, dict) or "model" not in state or "step" not in state:
        log.warning("skipping checkpoint %s: not a lepton-infra checkpoint", os.fspath(path))
        return None
    return state


def load_latest_checkpoint(
    directory: Location, map_location: str | torch.device = "cpu"
) -> dict[str, Any] | None:
    """The newest checkpoint that loads, skipping corrupt ones with a warning; None if there is none."""
    for path in list_checkpoints(directory):
        state = load_checkpoint(path, map_location)
        if state is not None:
            return state
    return None


def check_location(directory: Location) -> None:
    """Raise ``CheckpointStorageError`` (one line) if ``directory`` cannot hold checkpoints here: its
    protocol is unknown or its package missing, or it is a local file. No network I/O: cheap at start-up."""
    fs, root = _file_system(directory, credentials=False)
    if _is_local(fs) and os.path.exists(root) and not os.path.isdir(root):
        raise CheckpointStorageError(f"{os.fspath(directory)}: exists and is not a folder")


def check_writable(directory: Location) -> None:
    """Write and delete a probe under ``directory``: the first checkpoint may be due hours from now.

    Raises ``CheckpointStorageError`` with one line saying why it cannot.
    """
    fs, root = _file_system(directory)
    try:
        if _is_local(fs):
            fs.makedirs(root, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=root, prefix="write-test-"):
                pass
        else:
            probe = posixpath.join(root, f"write-test-{uuid.uuid4().hex}")
            fs.pipe_file(probe, b"")
            fs.rm_file(probe)
    except OSError as error:
        raise CheckpointStorageError(
            f"{os.fspath(directory)}: cannot write there: {error.strerror or _one_line(error)}"
        ) from None
    except Exception as error:  # SDKs raise their own types for credentials, endpoints, permissions
        raise CheckpointStorageError(
            f"{os.fspath(directory)}: cannot write there: {type(error).__name__}: {_one_line(error)}"
        ) from None


def _file_system(location: Location, *, credentials: bool = True) -> tuple[AbstractFileSystem, str]:
    """The file system and path of ``location``; ``credentials=False`` skips fetching any (no network I/O)."""
    text = os.fspath(location)
    protocol = text.split("://", 1)[0]
    options = _oss_rrsa_options(text, fetch=credentials) if protocol == "oss" and _on_rrsa() else {}
    try:
        fs, path = url_to_fs(text, **options)
    except ImportError as error:
        # fsspec replaces the import error with a generic hint; its cause names the module really missing.
        package = known_implementations[protocol]["class"].split(".")[0]
        raise _missing_package(text, f"{protocol}://", package, error.__cause__ or error) from None
    except ValueError as error:  # an unknown protocol, or options the package refuses
        raise CheckpointStorageError(f"{text}: {_one_line(error)}") from None
    return fs, path


def _on_rrsa() -> bool:
    return all(os.environ.get(name) for name in _RRSA_VARIABLES)


def _oss_rrsa_options(text: str, *, fetch: bool) -> dict[str, Any]:
    try:
        client = _rrsa_credentials_client()
    except ImportError as error:
        raise _missing_package(text, "oss:// under RRSA", "alibabacloud-credentials", error) from None
    if not fetch:
        return {}
    try:
        credential = client.get_credential()
    except Exception as error:  # the library raises its own types and those of its HTTP stack
        reason = _OIDC_TOKEN.sub(r"\1<redacted>", _one_line(error))
        raise CheckpointStorageError(
            f"{text}: cannot get an STS credential through RRSA: {type(error).__name__}: {reason}"
        ) from None
    # The client hands out a cached STS credential and renews it 15 minutes before it expires; a new
    # file system per operation (no fsspec instance cache) makes each operation sign with the current one,
    # where the cache would keep one instance per credential for the whole run.
    return {
        "key": credential.access_key_id,
        "secret": credential.access_key_secret,
        "token": credential.security_token,
        "skip_instance_cache": True,
    }


@functools.cache
def _rrsa_credentials_client() -> Any:
    """One per process, so its credential cache spares an STS call per operation."""
    from alibabacloud_credentials.client import Client
    from alibabacloud_credentials.models import Config

    # The library logs failed exchanges with the STS request URL, whose query holds the pod's OIDC token;
    # our own one-line error (token redacted) reports them instead.
    logging.getLogger("credentials").setLevel(logging.CRITICAL)

    # oidc_role_arn rather than the default chain: under RRSA a failed exchange must surface, not fall back
    # to the node's ECS instance role, which every pod on the node shares. The variables are passed rather
    # than left to the library, which reads them once, when it is first imported.
    role_arn, provider_arn, token_file = (os.environ[name] for name in _RRSA_VARIABLES)
    config = Config(
        type="oidc_role_arn",
        role_arn=role_arn,
        oidc_provider_arn=provider_arn,
        oidc_token_file_path=token_file,
    )
    return Client(config)


def _missing_package(text: str, need: str, package: str, error: BaseException) -> CheckpointStorageError:
    return CheckpointStorageError(
        f"{text}: {need} needs the Python package {package} ({_one_line(error)}); "
        f"install it: pip install {package}"
    )


def _is_local(fs: AbstractFileSystem) -> bool:
    return isinstance(fs, LocalFileSystem)


def _write_local(directory: str, final: str, state: dict[str, Any]) -> None:
    os.makedirs(directory, exist_ok=True)
    partial = final + ".partial"
    with open(partial, "wb") as handle:
        torch.save(state, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, final)
    # The rename is durable only once the directory entry itself is on disk.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _upload(fs: AbstractFileSystem, final: str, state: dict[str, Any]) -> None:
    with tempfile.NamedTemporaryFile(prefix="checkpoint-", suffix=".pt") as spool:
        torch.save(state, spool)
        spool.flush()
        fs.put_file(spool.name, final)


def _remove(path: str) -> None:
    fs, fs_path = _file_system(path)
    with contextlib.suppress(FileNotFoundError):  # pruned by another process in the meantime
        fs.rm_file(fs_path)


def _basename(entry: str) -> str:
    return posixpath.basename(entry.rstrip("/"))


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__
