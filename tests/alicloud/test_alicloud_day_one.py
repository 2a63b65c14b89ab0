"""Day one on ACK: what the real Alibaba Cloud APIs need that mocks never ask for (issue 13)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml
from plan_helpers import config_plan, only, spec_issues, stack_config, whole_plan

from lepton_infra.blueprint import PlatformSpec
from lepton_infra.components.alicloud.registry import AlicloudContainerRegistryArgs
from lepton_infra.plan.model import Plan


@pytest.fixture(scope="module")
def prod() -> Plan:
    return whole_plan("alicloud-prod")


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
    arguments = kubeconfig_of_site(whole_plan("multicloud"), "ali-sg")["users"][0]["user"]["exec"]["args"]
    assert arguments[arguments.index("--region-id") + 1] == "ap-southeast-1"


def kubeconfig_of_site(plan: Plan, site: str) -> dict[str, Any]:
    [provider] = [p for p in plan.of_type("pulumi:providers:kubernetes") if site in p.name]
    config: dict[str, Any] = yaml.safe_load(provider.inputs["kubeconfig"])
    return config


def test_nodes_pull_from_the_private_registry_through_the_managed_credential_helper(prod: Plan) -> None:
    """A private Enterprise Edition instance refuses anonymous pulls, and the kubelet has no RAM identity to
    pull with (RRSA roles serve pods' API calls, not image pulls): without a pull secret every pod sits in
    ImagePullBackOff. ACK's managed aliyun-acr-credential-helper keeps one on the service accounts of the
    watched namespaces, for the configured instance
    (https://www.alibabacloud.com/help/en/acr/user-guide/non-secret-pulling-container-image)."""
    [helper] = prod.of_type("alicloud:cs/kubernetesAddon:KubernetesAddon")
    cluster = only(prod, "alicloud:cs/managedKubernetes:ManagedKubernetes")
    instance = only(prod, "alicloud:cr/registryEnterpriseInstance:RegistryEnterpriseInstance")
    assert helper.inputs["name"] == "managed-aliyun-acr-credential-helper"
    assert helper.inputs["clusterId"] == cluster.outputs["id"]
    config = json.loads(helper.inputs["config"])
    [acr] = config["AcrInstanceInfo"]
    assert acr["instanceId"] == instance.outputs["id"]
    assert acr["regionId"] == "cn-hangzhou"
    # The domain the workloads' images name: the instance's VPC domain.
    image = only(prod, "kubernetes:apps/v1:Deployment").inputs["spec"]["template"]["spec"]["containers"][0]
    assert image["image"].startswith(acr["domains"] + "/")
    # Every namespace a workload of the site runs in, every service account there.
    assert config["watchNamespace"] == "ml"
    assert config["serviceAccount"] == "*"
    # The self-managed edition must not be installed beside the managed one.
    assert "aliyun-acr-credential-helper" not in {a["name"] for a in cluster.inputs["addons"]}


def test_node_pools_scale_from_zero_because_the_cluster_autoscaler_is_configured_first(prod: Plan) -> None:
    """A pool's scaling_config alone does not switch ACK node auto scaling on: the cluster's autoscaler is
    configured first (alicloud.cs.AutoscalingConfig; ACK "Enable node auto scaling",
    https://www.alibabacloud.com/help/doc-detail/197717.htm), here with the cluster autoscaler, which also
    serves spot pools, and scale-up from zero nodes."""
    [autoscaling] = prod.of_type("alicloud:cs/autoscalingConfig:AutoscalingConfig")
    cluster = only(prod, "alicloud:cs/managedKubernetes:ManagedKubernetes")
    assert autoscaling.inputs["clusterId"] == cluster.outputs["id"]
    assert autoscaling.inputs["scalerType"] == "cluster-autoscaler"
    assert autoscaling.inputs["scaleUpFromZero"] is True
    for pool in prod.of_type("alicloud:cs/nodePool:NodePool"):
        assert pool.inputs["scalingConfig"]["enable"] is True
        assert autoscaling.urn in pool.dependencies
    a100 = only(prod, "alicloud:cs/nodePool:NodePool", "a100").inputs["scalingConfig"]
    assert (a100["minSize"], a100["type"]) == (0, "gpu")


def test_terway_enforces_network_policy_in_shared_eni_mode(prod: Plan) -> None:
    """Terway enforces NetworkPolicy when its add-on config says `"NetworkPolicy": "true"` (ACK's Terraform
    add-on example for terway-eniip), in shared-ENI mode only (ACK "Use network policies": not on
    exclusive-ENI node pools). The site's pools are shared-ENI; every workload namespace relies on this."""
    addons = {
        a["name"]: a for a in only(prod, "alicloud:cs/managedKubernetes:ManagedKubernetes").inputs["addons"]
    }
    assert json.loads(addons["terway-eniip"]["config"]) == {
        "IPVlan": "false",
        "NetworkPolicy": "true",
        "ENITrunking": "false",
    }


@pytest.mark.parametrize("months", [4, 9, 18, 30])
def test_a_registry_term_container_registry_does_not_sell_is_refused_before_anything_is_bought(
    months: int,
) -> None:
    """CR Enterprise Edition is prepaid for 1, 2, 3 or 6 months or whole years: pulumi-alicloud's `period`
    ("please enter an integer multiple of 12 for annual paid products"); the provider's own check
    (terraform-provider-alicloud, resource_alicloud_cr_ee_instance.go) accepts 1, 2, 3, 6, 12, 24, 36, 48,
    60. Anything else failed only at purchase, deep into a first `pulumi up`."""
    config = copy.deepcopy(stack_config("alicloud-prod"))
    config["sites"][0]["registry_subscription_months"] = months
    [message] = [m for p, m in spec_issues(config) if p.endswith("registry_subscription_months")]
    assert f"12, 24, 36, 48, 60 months, not {months}" in message
    with pytest.raises(ValueError, match="subscription_months"):
        AlicloudContainerRegistryArgs(
            instance_name="lepton-ali", region="cn-hangzhou", namespace="lepton", repositories=(),
            vpc_id="vpc-1", vswitch_id="vsw-1", subscription_months=months,
        )  # fmt: skip


def test_every_term_container_registry_sells_is_accepted() -> None:
    for months in (1, 2, 3, 6, 12, 24, 36, 48, 60):
        config = copy.deepcopy(stack_config("alicloud-prod"))
        config["sites"][0]["registry_subscription_months"] = months
        PlatformSpec.model_validate(config)


def test_a_second_site_in_a_region_needs_a_kms_instance_for_its_key() -> None:
    """KMS: "You can create only one default key of the CMK type in each region. If you need to create
    multiple keys, we recommend that you purchase a KMS instance." (KMS "Manage keys",
    https://www.alibabacloud.com/help/en/kms/user-guide/manage-keys-2). A site without `kms_instance_id`
    creates its region's default key; a second such site in the region would fail at `pulumi up`."""
    config = copy.deepcopy(stack_config("alicloud-prod"))
    second = copy.deepcopy(config["sites"][0])
    second["name"] = "ali-hz2"
    second["network"]["cidr"] = "10.41.0.0/16"
    config["sites"].append(second)
    issues = dict(spec_issues(config))
    assert "ali-hz" in issues["sites[1].kms_instance_id"]
    config["sites"][1]["kms_instance_id"] = "kst-hzz65f176a0ogplgq1234"
    PlatformSpec.model_validate(config)


def test_a_site_with_a_kms_instance_creates_its_key_there() -> None:
    config = copy.deepcopy(stack_config("alicloud-prod"))
    config["sites"][0]["kms_instance_id"] = "kst-hzz65f176a0ogplgq1234"
    key = only(config_plan(config), "alicloud:kms/key:Key").inputs
    assert key["dkmsInstanceId"] == "kst-hzz65f176a0ogplgq1234"


def test_without_a_kms_instance_the_site_creates_its_regions_default_key(prod: Plan) -> None:
    assert "dkmsInstanceId" not in only(prod, "alicloud:kms/key:Key").inputs


def test_no_ack_pool_offers_a_fabric_so_multi_node_training_there_is_warned_about() -> None:
    """ACK documents eRDMA (ack-erdma-controller, resource aliyun/erdma) for gn8is, gn8v, ebmgn8v, ebmgn8is,
    ebmgn7v and later families; none for the catalog's gn7e, gn7, gn7i or gn6i. So an ACK pool has no
    fabric, and the plan warns about a multi-node job there (the blueprint's advice, with this hint)."""
    spec = PlatformSpec.model_validate(stack_config("alicloud-prod"))
    [site] = spec.sites
    for pool in site.gpu_pools:
        assert pool.fabric is None
        assert "gn7e" in pool.fabric_hint
    advice = pytest.importorskip("lepton_infra.blueprint.advice")  # the AWS lane's plan-time advice
    [(path, sentence)] = advice.advice(spec)
    assert path == "workloads[0].nodes"
    assert "gn7e" in sentence
