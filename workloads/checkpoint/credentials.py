"""How a pod signs its requests to the checkpoint bucket: the cloud's workload identity, one way per store.

Most stores need nothing from here: each package's SDK reads the pod's identity from the environment.

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

import functools
import logging
import os
import re
from typing import Any

from workloads.checkpoint.errors import CheckpointStorageError, StorageUnavailable, missing_package, one_line
from workloads.checkpoint.faults import is_permanent

# What ACK's ack-pod-identity-webhook injects into a pod whose service account has a RAM role (RRSA).
_RRSA_VARIABLES = (
    "ALIBABA_CLOUD_ROLE_ARN",
    "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
    "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
)
# Where a failed exchange's message shows the request's URL, its query carries the pod's OIDC token.
_OIDC_TOKEN = re.compile(r"(OIDCToken=)[^&\s]+")


def signing_options(location: str, *, fetch: bool) -> dict[str, Any]:
    """The fsspec options that make requests to ``location`` carry the pod's identity; {} where its SDK
    finds that itself. ``fetch=False`` checks that what is needed is installed, without network I/O."""
    protocol = location.split("://", 1)[0]
    if protocol == "oss" and _on_rrsa():
        return _oss_rrsa_options(location, fetch=fetch)
    return {}


def _on_rrsa() -> bool:
    return all(os.environ.get(name) for name in _RRSA_VARIABLES)


def _oss_rrsa_options(location: str, *, fetch: bool) -> dict[str, Any]:
    try:
        client = _rrsa_credentials_client()
    except ImportError as error:
        raise missing_package(location, "oss:// under RRSA", "alibabacloud-credentials", error) from None
    if not fetch:
        return {}
    try:
        credential = client.get_credential()
    except Exception as error:  # the library raises its own types and those of its HTTP stack
        reason = _OIDC_TOKEN.sub(r"\1<redacted>", one_line(error))
        message = f"{location}: cannot get an STS credential through RRSA: {type(error).__name__}: {reason}"
        # An unreachable STS may answer later; a refused role or token will not.
        raise (CheckpointStorageError if is_permanent(error) else StorageUnavailable)(message) from None
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
