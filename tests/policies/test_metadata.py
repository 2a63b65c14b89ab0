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
