"""The kubeconfig of an ACK cluster: its intranet endpoint, its CA, and ack-ram-tool as the credential.

A client certificate in the kubeconfig would be stored in the Kubernetes provider's state, and ``pulumi
refresh`` and ``pulumi destroy`` use the provider configuration in the state without running the program:
once the certificate expires (240 minutes was the old figure), neither works again. The credential is
instead fetched when it is needed by Alibaba's credential plugin, as AKS uses kubelogin and EKS ``aws eks
get-token``: ``ack-ram-tool credential-plugin get-credential`` calls DescribeClusterUserKubeconfig with the
runner's RAM identity for a short-lived certificate and caches it
(https://github.com/AliyunContainerService/ack-ram-tool, ``credential-plugin get-kubeconfig``, whose
exec stanza this reproduces). Runners need ``ack-ram-tool`` on their PATH, a RAM identity with
``cs:DescribeClusterUserKubeconfig`` and an ACK RBAC binding, and a route to the VPC (see the README).
"""

from __future__ import annotations

import yaml

ACK_RAM_TOOL = "ack-ram-tool"
# The exec credential API the plugin answers with (``--api-version``), as client-go names it.
EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"
# Lifetime of each certificate the plugin fetches; it fetches the next one itself.
CREDENTIAL_EXPIRATION = "3h"


def exec_kubeconfig(cluster_id: str, server: str, certificate_authority_data: str, region: str) -> str:
    """A kubeconfig for ``server`` (the intranet API endpoint) whose user runs ack-ram-tool.

    ``--region-id`` is always given: the tool's default region is cn-hangzhou, and DescribeClusterUser-
    Kubeconfig is a regional call.
    """
    user = f"{cluster_id}-ack-ram-tool"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": cluster_id,
                "cluster": {"server": server, "certificate-authority-data": certificate_authority_data},
            }
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "exec": {
                        "apiVersion": EXEC_API_VERSION,
                        "command": ACK_RAM_TOOL,
                        "args": [
                            "credential-plugin",
                            "get-credential",
                            "--cluster-id",
                            cluster_id,
                            "--api-version",
                            EXEC_API_VERSION.rsplit("/", 1)[-1],
                            "--expiration",
                            CREDENTIAL_EXPIRATION,
                            "--region-id",
                            region,
                            "--log-level",
                            "error",
                        ],
                        "interactiveMode": "Never",
                        "provideClusterInfo": False,
                    }
                },
            }
        ],
        "contexts": [{"name": cluster_id, "context": {"cluster": cluster_id, "user": user}}],
        "current-context": cluster_id,
    }
    return yaml.safe_dump(config, sort_keys=False)
