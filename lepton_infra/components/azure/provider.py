"""The explicit azure-native provider every resource of a site uses: its location, nothing ambient.

azure-native has no provider-level default tags, so components put the site's tags on each resource.
"""

from __future__ import annotations

import pulumi
from pulumi_azure_native.provider import Provider, ProviderArgs


def azure_provider(name: str, location: str, parent: pulumi.Resource) -> Provider:
    # Subscription and credentials still come from the environment (az login, OIDC in CI), as for AWS.
    return Provider(name, ProviderArgs(location=location), opts=pulumi.ResourceOptions(parent=parent))
