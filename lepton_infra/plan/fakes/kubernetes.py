"""Kubernetes: what the API server fills in that a program reads back."""

from __future__ import annotations

import base64
from typing import Any

from lepton_infra.plan.fakes import FakeContext, resource

SERVICE_ACCOUNT_TOKEN = "kubernetes.io/service-account-token"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@resource("kubernetes:core/v1:Secret")
def _secret(ctx: FakeContext) -> tuple[str, dict[str, Any]]:
    """A ServiceAccount token Secret comes back with the token controller's `token`, `ca.crt` and
    `namespace` (pulumi-kubernetes waits for them: pulumi/pulumi-kubernetes#2048); others as written."""
    metadata = ctx.inputs.get("metadata") or {}
    identifier = f"{metadata.get('namespace', 'default')}/{metadata.get('name', ctx.name)}"
    if ctx.inputs.get("type") != SERVICE_ACCOUNT_TOKEN:
        return identifier, {}
    pem = f"-----BEGIN CERTIFICATE-----\n{_b64(ctx.hex(48))}\n-----END CERTIFICATE-----\n"
    data = {
        "token": _b64(f"eyJhbGciOiJSUzI1NiJ9.{ctx.hex(32)}.{ctx.hex(24)}"),
        "ca.crt": _b64(pem),
        "namespace": _b64(str(metadata.get("namespace", "default"))),
    }
    return identifier, {"data": data}
