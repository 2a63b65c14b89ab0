"""Day one on ACK: what the real Alibaba Cloud APIs need that mocks never ask for (issue 13)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from plan_helpers import only, stack_plan

from lepton_infra.plan.model import Plan


@pytest.fixture(scope="module")
def prod() -> Plan:
    return stack_plan("alicloud-prod")


def kubeconfig(plan: Plan) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(only(plan, "pulumi:providers:kubernetes").inputs["kubeconfig"])
    return config


def test_the_kubeconfig_runs_ack_ram_tool_against_the_intranet_endpoint_and_holds_no_credential(
    prod: Plan,
) -> None:
    """A client certificate in the Kubernetes provider's state breaks a later `refresh` or `destroy`, which
    use the provider config from the state without running the program, once it expires. The kubeconfig
    instead runs Alibaba's credential plugin, as `ack-ram-tool credential-plugin get-kubeconfig` writes it
    (AliyunContainerService/ack-ram-tool, pkg/ctl/credentialplugin/getkubeconfig.go), with the region
    named (its default is cn-hangzhou), against the intranet endpoint: the cluster has no internet SLB."""
    cluster = only(prod, "alicloud:cs/managedKubernetes:ManagedKubernetes")
    assert cluster.inputs["slbInternetEnabled"] is False
    config = kubeconfig(prod)
    [entry] = config["clusters"]
    assert entry["cluster"]["server"] == cluster.outputs["connections"][0]["apiServerIntranet"]
    assert entry["cluster"]["certificate-authority-data"]
    [user] = config["users"]
    assert set(user["user"]) == {"exec"}  # no client-certificate-data, client-key-data or token
    command = user["user"]["exec"]
    assert command["command"] == "ack-ram-tool"
    assert command["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert command["interactiveMode"] == "Never"
    arguments = command["args"]
    assert arguments[:2] == ["credential-plugin", "get-credential"]
    assert arguments[arguments.index("--cluster-id") + 1] == cluster.outputs["id"]
    assert arguments[arguments.index("--region-id") + 1] == "cn-hangzhou"
    assert arguments[arguments.index("--api-version") + 1] == "v1beta1"


def test_each_site_asks_its_own_region_for_credentials() -> None:
    """The multicloud stack's ACK site is in Singapore: a plugin left at its cn-hangzhou default would ask
    the wrong region's API for the cluster's credential."""
    arguments = kubeconfig_of_site(stack_plan("multicloud"), "ali-sg")["users"][0]["user"]["exec"]["args"]
    assert arguments[arguments.index("--region-id") + 1] == "ap-southeast-1"


def kubeconfig_of_site(plan: Plan, site: str) -> dict[str, Any]:
    [provider] = [p for p in plan.of_type("pulumi:providers:kubernetes") if site in p.name]
    config: dict[str, Any] = yaml.safe_load(provider.inputs["kubeconfig"])
    return config
