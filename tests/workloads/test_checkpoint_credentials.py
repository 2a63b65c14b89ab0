"""oss:// checkpoints under ACK's RRSA: requests are signed with the STS credential alibabacloud-credentials
returns at the time.

Alibaba's STS cannot be reached here, so the library's credentials client (its documented entry point,
``alibabacloud_credentials.client.Client``) is replaced by a stub that hands out known credentials; OSS is a
local HTTP server that records what ossfs sends. ossfs and alibabacloud-credentials are optional (the images
install them from ``workloads/storage-requirements.txt``): the tests that need them skip without them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import pytest

from workloads.checkpoint import (
    CheckpointStorageError,
    check_location,
    check_writable,
    credentials,
    list_steps,
    load_latest_checkpoint,
)

RRSA = {
    "ALIBABA_CLOUD_ROLE_ARN": "acs:ram::1234567890123456:role/trainer",
    "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": "acs:ram::1234567890123456:oidc-provider/ack-rrsa-c0ffee",
    "ALIBABA_CLOUD_OIDC_TOKEN_FILE": "/var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token",
}
LOCATION = "oss://bucket/run"
CREDENTIALS_MODULES = (
    "alibabacloud_credentials",
    "alibabacloud_credentials.client",
    "alibabacloud_credentials.models",
)


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


INSTALL = "install it with: pip install --no-deps -r workloads/storage-requirements.txt"
needs_ossfs = pytest.mark.skipif(not _importable("ossfs"), reason=f"ossfs is not installed; {INSTALL}")
needs_credentials = pytest.mark.skipif(
    not _importable("alibabacloud_credentials.client"),
    reason=f"alibabacloud-credentials is not installed; {INSTALL}",
)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case


def _signed_with(request: Request, secret: str) -> bool:
    """Whether ``request`` carries an OSS signature (V1, as ossfs signs) made with ``secret``."""
    signature = request.headers["authorization"].rsplit(":", 1)[1]
    content = [request.headers.get(name, "") for name in ("content-md5", "content-type", "date")]
    token = request.headers["x-oss-security-token"]
    signed = "\n".join([request.method, *content, f"x-oss-security-token:{token}", request.path])
    expected = base64.b64encode(hmac.new(secret.encode(), signed.encode(), hashlib.sha1).digest())
    return signature == expected.decode()


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in RRSA:
        monkeypatch.delenv(name, raising=False)
    # The module keeps one credentials client per process, and fsspec one anonymous OSS file system (with
    # the endpoint it was built with): neither may leak from one test into another.
    credentials._rrsa_credentials_client.cache_clear()
    _clear_oss_instances()
    yield
    credentials._rrsa_credentials_client.cache_clear()
    _clear_oss_instances()


def _clear_oss_instances() -> None:
    if "ossfs" in sys.modules and sys.modules["ossfs"] is not None:
        sys.modules["ossfs"].OSSFileSystem.clear_instance_cache()


@pytest.fixture
def oss(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Request]]:
    """An OSS endpoint on loopback that accepts every PUT and DELETE and records each request."""
    seen: list[Request] = []

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self._reply(200)

        def do_DELETE(self) -> None:
            self._reply(204)

        def _reply(self, status: int) -> None:
            headers = {name.lower(): value for name, value in self.headers.items()}
            seen.append(Request(self.command, unquote(self.path), headers))
            self.send_response(status)
            self.send_header("x-oss-request-id", "test")
            self.send_header("ETag", '"d41d8cd98f00b204e9800998ecf8427e"')
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # keep the test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    monkeypatch.setenv("OSS_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # a proxy configured on the machine must not take these
    yield seen
    server.shutdown()
    server.server_close()
    thread.join()


@dataclass
class StubCredentials:
    """Stands for the library's ``Client``: records each client built, hands out numbered STS credentials."""

    configs: list[Any] = field(default_factory=list)
    issued: int = 0
    failure: Exception | None = None  # what the exchange with STS raises, if it fails

    def client(self, config: Any) -> StubCredentials:  # in place of ``Client(config)``
        self.configs.append(config)
        return self

    def get_credential(self) -> Any:
        from alibabacloud_credentials.models import CredentialModel

        if self.failure is not None:
            raise self.failure
        self.issued += 1
        return CredentialModel(
            access_key_id=f"STS.key-{self.issued}",
            access_key_secret=f"secret-{self.issued}",
            security_token=f"token-{self.issued}",
            type="oidc_role_arn",
        )


@pytest.fixture
def rrsa(monkeypatch: pytest.MonkeyPatch) -> StubCredentials:
    """A pod as ACK's webhook sets it up, with the credentials library's client stubbed."""
    client_module = importlib.import_module("alibabacloud_credentials.client")
    for name, value in RRSA.items():
        monkeypatch.setenv(name, value)
    stub = StubCredentials()
    monkeypatch.setattr(client_module, "Client", stub.client)
    return stub


@needs_ossfs
@needs_credentials
def test_under_rrsa_each_operation_signs_with_the_credential_the_library_holds_at_that_time(
    oss: list[Request], rrsa: StubCredentials
) -> None:
    check_writable(LOCATION)  # a PUT and a DELETE
    check_writable(LOCATION)  # the library has renewed the credential in between

    assert [(r.method, r.path.rsplit("/", 1)[0]) for r in oss] == [
        ("PUT", "/bucket/run"),
        ("DELETE", "/bucket/run"),
    ] * 2
    credentials = [("STS.key-1", "secret-1", "token-1")] * 2 + [("STS.key-2", "secret-2", "token-2")] * 2
    for request, (key, secret, token) in zip(oss, credentials, strict=True):
        assert request.headers["authorization"].startswith(f"OSS {key}:")
        assert request.headers["x-oss-security-token"] == token
        assert _signed_with(request, secret)
    # One client for the process (its cache spares an STS call per operation), for the pod's role.
    [config] = rrsa.configs
    assert (config.type, config.role_arn, config.oidc_provider_arn, config.oidc_token_file_path) == (
        "oidc_role_arn",
        *RRSA.values(),
    )


@needs_ossfs
@needs_credentials
def test_under_rrsa_the_start_up_check_asks_for_no_credential(rrsa: StubCredentials) -> None:
    check_location(LOCATION)

    assert len(rrsa.configs) == 1 and rrsa.issued == 0


@needs_credentials
def test_under_rrsa_a_failed_exchange_is_one_line_without_the_oidc_token(rrsa: StubCredentials) -> None:
    # As the library's HTTP stack words an unreachable STS: the URL, OIDC token included.
    rrsa.failure = ConnectionError(
        "HTTPSConnectionPool(host='sts-vpc.cn-hangzhou.aliyuncs.com', port=443): Max retries exceeded\n"
        " with url: /?Action=AssumeRoleWithOIDC&OIDCToken=eyJhbGciOi.secret&RoleSessionName=s (Caused by ...)"
    )

    for use in (list_steps, check_writable):
        with pytest.raises(CheckpointStorageError) as raised:
            use(LOCATION)
        message = str(raised.value)
        assert message.startswith(f"{LOCATION}: cannot get an STS credential through RRSA: ConnectionError: ")
        assert "OIDCToken=<redacted>&RoleSessionName" in message and "secret" not in message
        assert "\n" not in message


@needs_ossfs
@pytest.mark.parametrize("present", [(), ("ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE")])
def test_without_rrsa_oss_requests_go_unsigned_as_before(
    oss: list[Request], monkeypatch: pytest.MonkeyPatch, present: tuple[str, ...]
) -> None:
    for name in present:  # a partial set is not RRSA
        monkeypatch.setenv(name, RRSA[name])
    for module in CREDENTIALS_MODULES:  # not needed, so never imported
        monkeypatch.setitem(sys.modules, module, None)

    check_writable(LOCATION)

    assert [r.method for r in oss] == ["PUT", "DELETE"]
    assert not any("authorization" in r.headers or "x-oss-security-token" in r.headers for r in oss)


def test_under_rrsa_a_missing_credentials_package_is_named_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in RRSA.items():
        monkeypatch.setenv(name, value)
    # As if the package were not installed, even where it is: None entries make its imports fail.
    for module in CREDENTIALS_MODULES:
        monkeypatch.setitem(sys.modules, module, None)

    for use in (check_location, list_steps, load_latest_checkpoint, check_writable):
        with pytest.raises(CheckpointStorageError) as raised:
            use(LOCATION)
        message = str(raised.value)
        assert message.startswith(
            f"{LOCATION}: oss:// under RRSA needs the Python package alibabacloud-credentials"
        )
        assert message.endswith("install it: pip install alibabacloud-credentials") and "\n" not in message
