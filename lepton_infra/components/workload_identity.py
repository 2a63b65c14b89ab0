"""What every cloud's workload identity trusts: the token Kubernetes issues to one service account.

IRSA (AWS), Entra workload identity (Azure) and RRSA (Alibaba Cloud) each federate a cloud identity with
the cluster's OIDC issuer and accept only tokens whose subject names one service account.
"""

from __future__ import annotations


def service_account_subject(namespace: str, service_account: str) -> str:
    """The ``sub`` claim of the tokens Kubernetes issues to ``namespace/service_account``."""
    return f"system:serviceaccount:{namespace}:{service_account}"
