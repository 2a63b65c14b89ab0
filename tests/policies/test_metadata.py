"""Every policy carries what the issue asks: a stable kebab-case name, description, severity, enforcement
(mandatory for critical and high), remediation, and the framework controls it maps to."""

from __future__ import annotations

import re

import pytest

from lepton_infra.policies.pack import to_pulumi_policy
from lepton_infra.policies.registry import all_policies

SPECS = all_policies()
NAME = re.compile(r"^(aws|azure|alicloud|kubernetes|governance)(-[a-z0-9]+)+$")


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_policy_metadata_is_complete(spec) -> None:  # type: ignore[no-untyped-def]
    assert NAME.match(spec.name)
    assert spec.description.endswith(".") and spec.remediation
    assert spec.severity in ("critical", "high", "medium", "low")
    assert spec.enforcement == ("mandatory" if spec.severity in ("critical", "high") else "advisory")
    policy = to_pulumi_policy(spec)
    assert policy.remediation_steps == spec.remediation
    assert policy.enforcement_level is not None and policy.enforcement_level.value == spec.enforcement
    assert spec.family in (policy.tags or [])


@pytest.mark.parametrize(
    ("name", "control"),
    [
        ("kubernetes-pod-disallow-privileged", "checkov: CKV_K8S_16"),
        (
            "kubernetes-pod-run-as-non-root",
            "Kubernetes Pod Security Standards (restricted): Running as Non-root",
        ),
        ("aws-eks-cluster-disallow-public-endpoint", "CIS Amazon EKS Benchmark v1.7.0: 5.4.2"),
        ("aws-eks-cluster-secrets-encrypted", "checkov: CKV_AWS_58"),
        ("azure-aks-cluster-disallow-public-endpoint", "checkov: CKV_AZURE_6"),
        ("azure-acr-disallow-admin-user-and-anonymous-pull", "checkov: CKV_AZURE_137"),
    ],
)
def test_policy_maps_to_the_framework_control(name: str, control: str) -> None:
    spec = next(s for s in SPECS if s.name == name)
    assert control in [str(c) for c in spec.controls]


def test_issue_coverage_has_policies_for_every_family() -> None:
    families = {s.family for s in SPECS}
    assert families == {"cloud-security", "kubernetes", "governance"}
    for prefix in ("aws-", "azure-", "alicloud-"):
        assert sum(s.name.startswith(prefix) for s in SPECS) >= 15


def test_the_readme_coverage_table_is_generated_from_the_policies_metadata() -> None:
    # Run in CI with the rest: a policy whose controls change without `python -m
    # lepton_infra.policies.coverage README.md` fails here.
    from pathlib import Path

    from lepton_infra.policies.coverage import BEGIN, END, markdown
    from lepton_infra.policies.operability.registry import all_policies as operability

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    current = readme[readme.index(BEGIN) : readme.index(END) + len(END)]
    assert current == markdown((*SPECS, *operability())), (
        "run `python -m lepton_infra.policies.coverage README.md`"
    )


def test_every_framework_the_issue_names_is_covered() -> None:
    from lepton_infra.policies.coverage import coverage

    found = coverage(SPECS)
    assert {"4.1.1", "4.1.3", "4.2.1", "5.3.1", "5.4.1"} <= set(found["CIS Amazon EKS Benchmark v1.7.0"])
    baseline = set(found["Kubernetes Pod Security Standards (baseline)"])
    # Every control of the baseline profile (https://kubernetes.io/docs/concepts/security/pod-security-standards/).
    assert baseline == {
        "HostProcess",
        "Host Namespaces",
        "Privileged Containers",
        "Capabilities",
        "HostPath Volumes",
        "Host Ports",
        "AppArmor",
        "SELinux",
        "/proc Mount Type",
        "Seccomp",
        "Sysctls",
    }
    restricted = set(found["Kubernetes Pod Security Standards (restricted)"])
    assert restricted == {
        "Volume Types",
        "Privilege Escalation",
        "Running as Non-root",
        "Running as Non-root user",
        "Seccomp",
        "Capabilities",
    }
    assert any(c.startswith("CKV_ALI_") for c in found["checkov"])
