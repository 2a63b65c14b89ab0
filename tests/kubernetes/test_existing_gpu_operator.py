"""An existing site tunes the GPU Operator it installs: typed settings, then checked chart values."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from plan_helpers import (
    ROOT,
    config_plan,
    edited_project,
    only,
    problems,
    run_main,
    stack_config,
    stack_plan,
)

from lepton_infra.blueprint.gpu_operator import GUARDED_KEYS, GpuOperatorSpec
from lepton_infra.catalog.gpu_operator_chart import chart_values, unknown_keys
from lepton_infra.components.existing.gpu_operator import existing_operator_values

RELEASE = "kubernetes:helm.sh/v3:Release"
SITE = "lepton-infra:platform.sites[0]"


def toolkit_env(**settings: Any) -> dict[str, str]:
    values = existing_operator_values(GpuOperatorSpec(**settings))
    return {e["name"]: e["value"] for e in values.get("toolkit", {}).get("env", [])}


def nested(path: tuple[str, ...], leaf: Any) -> dict[str, Any]:
    value: Any = leaf
    for key in reversed(path):
        value = {key: value}
    return dict(value)


def with_operator(settings: dict[str, Any], gpu_stack: str | None = None) -> dict[str, Any]:
    """The example stack's platform with its site's gpu_operator (and gpu_stack) replaced."""
    platform = copy.deepcopy(stack_config("existing-cluster"))
    platform["sites"][0]["gpu_operator"] = settings
    if gpu_stack is not None:
        platform["sites"][0]["gpu_stack"] = gpu_stack
    return platform


# --- Each distribution's containerd -----------------------------------------------------------------------


def test_plain_containerd_leaves_the_toolkit_at_its_own_defaults() -> None:
    """The toolkit's defaults are upstream containerd's: /etc/containerd/config.toml and
    /run/containerd/containerd.sock (NVIDIA GPU Operator docs, "Getting Started", "Custom configuration for
    runtime containerd")."""
    assert toolkit_env() == {}


def test_k3s_nodes_get_the_toolkit_pointed_at_k3s_s_own_containerd() -> None:
    """k3s runs its own containerd: config under /var/lib/rancher/k3s/agent/etc/containerd, socket at
    /run/k3s/containerd/containerd.sock. Left at the defaults the toolkit edits /etc/containerd/config.toml,
    which k3s never reads (NVIDIA/gpu-operator#415). The generated config.toml, not its template: a
    config.toml.tmpl replaces k3s's own template and drops its CNI settings (NVIDIA/gpu-operator#473,
    comment of 2024-05-30)."""
    env = toolkit_env(container_runtime="k3s")
    assert env == {
        "CONTAINERD_CONFIG": "/var/lib/rancher/k3s/agent/etc/containerd/config.toml",
        "CONTAINERD_SOCKET": "/run/k3s/containerd/containerd.sock",
    }


def test_rke2_nodes_get_the_toolkit_signalling_rke2_s_containerd_and_leaving_its_template_alone() -> None:
    """RKE2's own instructions for GPU Operator v25.10.x set CONTAINERD_SOCKET to
    /run/k3s/containerd/containerd.sock and nothing else: RKE2 renders containerd's config and picks up the
    toolkit's runtime itself (docs.rke2.io, "GPU Operators"; rancher/rke2-docs docs/add-ons/gpu_operators.md).
    Older guides pointed CONTAINERD_CONFIG at config.toml.tmpl (NVIDIA/gpu-operator#473), which replaces
    RKE2's whole template with the toolkit's file."""
    env = toolkit_env(container_runtime="rke2")
    assert env == {"CONTAINERD_SOCKET": "/run/k3s/containerd/containerd.sock"}
    assert not any(v.endswith(".tmpl") for v in env.values())


def test_microk8s_nodes_get_the_snap_s_containerd_template_and_socket() -> None:
    """MicroK8s renders containerd's config from args/containerd-template.toml in its snap and listens on
    the snap's socket (NVIDIA/gpu-operator#173: a maintainer's values, the template and not containerd.toml,
    which the snap rewrites at each start; canonical/microk8s#3959 for the same file)."""
    env = toolkit_env(container_runtime="microk8s")
    assert env["CONTAINERD_CONFIG"] == "/var/snap/microk8s/current/args/containerd-template.toml"
    assert env["CONTAINERD_SOCKET"] == "/var/snap/microk8s/common/run/containerd.sock"
    assert env["CONTAINERD_SET_AS_DEFAULT"] == "true"


def test_a_site_s_own_toolkit_variables_come_after_the_runtime_s_and_may_not_contradict_them() -> None:
    """A containerd with a version-1 config needs CONTAINERD_USE_LEGACY_CONFIG=true besides its paths
    (NVIDIA/gpu-operator#415): the user's entries are added to the runtime's, not put in their place (Helm
    replaces a list), and one naming a variable the runtime sets is refused."""
    legacy = {"name": "CONTAINERD_USE_LEGACY_CONFIG", "value": "true"}
    values = existing_operator_values(
        GpuOperatorSpec(
            container_runtime="k3s", values={"toolkit": {"env": [legacy], "installDir": "/opt/nv"}}
        )
    )
    assert values["toolkit"]["env"][-1] == legacy
    assert {e["name"] for e in values["toolkit"]["env"]} >= {"CONTAINERD_CONFIG", "CONTAINERD_SOCKET"}
    assert values["toolkit"]["installDir"] == "/opt/nv"
    socket = {"name": "CONTAINERD_SOCKET", "value": "/run/containerd/containerd.sock"}
    found = problems(with_operator({"container_runtime": "rke2", "values": {"toolkit": {"env": [socket]}}}))
    assert "set by container_runtime rke2" in found[f"{SITE}.gpu_operator.values.toolkit.env[0].name"]
    found = problems(with_operator({"values": {"toolkit": {"env": [{"name": "X", "value": True}]}}}))
    assert "quote" in found[f"{SITE}.gpu_operator.values.toolkit.env[0].value"]


def test_the_example_stack_s_release_carries_its_driver_runtime_and_mirror() -> None:
    """What the stack file asks for reaches the Helm release, the platform's own values kept beside it."""
    site = stack_config("existing-cluster")["sites"][0]
    values = only(stack_plan("existing-cluster"), RELEASE, "gpu-runtime").inputs["values"]
    operator = site["gpu_operator"]
    assert values["driver"]["version"] == operator["driver_version"]
    assert values["driver"]["repository"] == operator["values"]["driver"]["repository"]
    assert values["driver"]["enabled"] is True  # from gpu_stack operator-with-driver, kept under the merge
    env = {e["name"]: e["value"] for e in values["toolkit"]["env"]}
    assert env == toolkit_env(container_runtime=operator["container_runtime"])
    assert values["devicePlugin"] == {"enabled": True}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in values["daemonsets"][
        "tolerations"
    ]


# --- Driver, MIG, DCGM ------------------------------------------------------------------------------------


def test_a_precompiled_driver_is_named_by_its_branch() -> None:
    """Precompiled driver images are tagged <branch>-<kernel>-<os>: driver.version is a branch such as 570
    with driver.usePrecompiled (NVIDIA GPU Operator docs, "Precompiled Driver Containers"); a full release
    names an image that does not exist and the driver pod never starts."""
    values = existing_operator_values(GpuOperatorSpec(driver_version="570", precompiled_driver=True))
    assert values["driver"] == {"version": "570", "usePrecompiled": True}
    wrong = problems(with_operator({"driver_version": "570.172.08", "precompiled_driver": True}))
    assert "branch" in wrong[f"{SITE}.gpu_operator.driver_version"]
    missing = problems(with_operator({"precompiled_driver": True}))
    assert "branch" in missing[f"{SITE}.gpu_operator.driver_version"]


@pytest.mark.parametrize("version", ["570", "latest", "570.172.08-ubuntu22.04", "5.1"])
def test_a_driver_version_must_be_a_release(version: str) -> None:
    """The operator appends the OS to driver.version to name the image (driver:<version>-ubuntu22.04): a
    branch, a tag with its own OS or a word names no image."""
    found = problems(with_operator({"driver_version": version}))
    assert f"{SITE}.gpu_operator.driver_version" in found


def test_the_mixed_mig_strategy_is_refused_with_its_reason() -> None:
    """With mig.strategy mixed the device plugin advertises nvidia.com/mig-<profile> resources instead of
    nvidia.com/gpu (NVIDIA GPU Operator docs, "GPU Operator with MIG"); the platform's pods and Kueue quotas
    ask for nvidia.com/gpu, so they would never be scheduled on those nodes."""
    found = problems(with_operator({"mig_strategy": "mixed"}))
    message = found[f"{SITE}.gpu_operator.mig_strategy"]
    assert "nvidia.com/mig-" in message and "single" in message
    assert existing_operator_values(GpuOperatorSpec(mig_strategy="none"))["mig"] == {"strategy": "none"}


def test_dcgm_off_reaches_the_release_and_the_plan_reports_the_gpu_alerts_it_silences() -> None:
    """The GPU health alerts (XID, ECC) read DCGM_FI_* series; with the operator's exporter off they never
    fire unless the cluster runs another exporter, which the plan of an existing cluster cannot see: the
    operability pack says so (advisory) instead of the alerts failing silently."""
    from lepton_infra.plan.evaluate_view import evaluate_view_rules
    from lepton_infra.plan.packs import OPERABILITY
    from lepton_infra.policies.operability.registry import all_policies

    platform = stack_config("existing-cluster")
    platform = with_operator({**platform["sites"][0]["gpu_operator"], "dcgm_exporter": False})
    plan = config_plan(platform)
    assert only(plan, RELEASE, "gpu-runtime").inputs["values"]["dcgmExporter"]["enabled"] is False
    found = [
        v
        for v in evaluate_view_rules(plan, all_policies(), OPERABILITY)
        if v.policy == "gpu-metrics-have-dcgm-exporter"
    ]
    assert [v.enforcement for v in found] == ["advisory"]
    assert "GpuXidError" in found[0].message and "DCGM exporter of its own" in found[0].message


# --- values: the chart's keys only, and none that undo the platform ----------------------------------------


def test_user_values_are_merged_last_and_nested_keys_of_the_chart_are_accepted() -> None:
    values = existing_operator_values(
        GpuOperatorSpec(
            driver_version="570.172.08",
            values={
                "driver": {
                    "repository": "registry.example.internal/nvidia",
                    "upgradePolicy": {"drain": {"enable": True}},
                },
                "devicePlugin": {"config": {"name": "time-slicing", "default": "any"}},
                # Below an empty mapping or a list the value is the user's: nothing there is checked.
                "toolkit": {"resources": {"limits": {"memory": "200Mi"}}},
            },
        )
    )
    assert values["driver"]["version"] == "570.172.08"
    assert values["driver"]["repository"] == "registry.example.internal/nvidia"
    assert values["driver"]["upgradePolicy"] == {"drain": {"enable": True}}


@pytest.mark.parametrize(
    ("values", "bad"),
    [
        ({"drivr": {"version": "570.172.08"}}, "values.drivr"),
        ({"driver": {"repositry": "registry.example.internal/nvidia"}}, "values.driver.repositry"),
        ({"driver": {"upgradePolicy": {"drian": {"enable": True}}}}, "values.driver.upgradePolicy.drian"),
    ],
)
def test_a_misspelled_values_key_at_any_depth_is_refused(values: dict[str, Any], bad: str) -> None:
    """Helm ignores a key the chart never reads: the install goes on with the chart's default and nobody is
    told. Every key is checked against the chart's values.yaml at the pinned tag."""
    found = problems(with_operator({"values": values}))
    assert "not a value of the GPU Operator chart v25.10.1" in found[f"{SITE}.gpu_operator.{bad}"]


@pytest.mark.parametrize("path", sorted(GUARDED_KEYS))
def test_keys_that_undo_the_platform_s_guarantees_are_refused_with_their_reason(
    path: tuple[str, ...],
) -> None:
    found = problems(with_operator({"values": nested(path, False)}))
    message = found[f"{SITE}.gpu_operator.values.{'.'.join(path)}"]
    assert message == f"refused: {GUARDED_KEYS[path]}"


@pytest.mark.parametrize("path", sorted(GUARDED_KEYS))
def test_every_refused_key_is_one_the_chart_has(path: tuple[str, ...]) -> None:
    """A guard on a key the chart does not have would guard nothing."""
    assert unknown_keys(nested(path, False)) == []


def test_the_packaged_chart_values_are_the_pinned_chart_s() -> None:
    from lepton_infra.components.kubernetes.gpu_runtime import GPU_OPERATOR_VERSION

    source = (ROOT / "lepton_infra" / "catalog" / "charts" / "gpu-operator" / "SOURCE.md").read_text()
    assert f"Tag: {GPU_OPERATOR_VERSION}" in source
    assert chart_values()["driver"]["version"]  # the chart's own default driver


# --- Only where the platform installs the operator, and only what it installs ----------------------------


def test_gpu_operator_is_refused_where_the_cluster_brings_its_own_gpu_stack() -> None:
    found = problems(with_operator({"mig_strategy": "none"}, gpu_stack="preinstalled"))
    assert "preinstalled" in found[f"{SITE}.gpu_operator"]


def test_driver_and_containerd_settings_are_refused_where_the_nodes_bring_driver_and_toolkit() -> None:
    """With gpu_stack operator the operator's driver and toolkit are off: a driver version or a containerd
    path would silently do nothing."""
    found = problems(with_operator({"driver_version": "570.172.08", "container_runtime": "k3s"}, "operator"))
    assert "operator-with-driver" in found[f"{SITE}.gpu_operator.driver_version"]
    assert "operator-with-driver" in found[f"{SITE}.gpu_operator.container_runtime"]


# --- Named with the file and line ---------------------------------------------------------------------------


def test_validate_names_the_file_line_and_field_of_a_misspelled_values_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repository = "            driver: {repository:"
    path = edited_project(tmp_path, "existing-cluster", repository, repository.replace("driver", "drivr"))
    code, _, err = run_main(capsys, "validate", "--project", str(tmp_path), "--stack", "existing-cluster")
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "drivr:" in t)
    assert code == 2
    assert (
        f"Pulumi.existing-cluster.yaml:{line}: {SITE}.gpu_operator.values.drivr: "
        "not a value of the GPU Operator chart v25.10.1"
    ) in err
