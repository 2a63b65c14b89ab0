"""Every operability rule: a site that passes it, and a one-change site that fails it with the exact
finding (the pulumi/compliance-policies pattern: a compliant baseline, one field changed per case)."""

from __future__ import annotations

import pytest
from op_fixtures import FIXTURES, RULES, baseline, mutated, op_cases, op_files, operability
from policy_fixtures import Case, load, plan


@pytest.mark.parametrize("file", [str(p.name) for p in op_files()])
def test_baseline_site_passes_every_operability_rule(file: str) -> None:
    assert [(v.policy, v.message) for v in operability(baseline(file))] == []


@pytest.mark.parametrize("case", op_cases(), ids=lambda c: c.id)
def test_one_change_fails_exactly_the_rule_it_breaks(case: Case) -> None:
    violations = operability(mutated(case))
    assert {v.policy for v in violations} == case.policies
    messages = [v.message for v in violations if v.policy == case.policy]
    assert any(case.expect in m for m in messages), messages


def test_every_rule_has_a_failing_case() -> None:
    covered = {c.policy for c in op_cases()}
    assert {r.name for r in RULES} <= covered


def test_an_hpa_on_a_dcgm_metric_needs_a_dcgm_exporter_too() -> None:
    """An HPA on DCGM_FI_DEV_GPU_UTIL never scales where nothing exports it; another exporter (NVIDIA's
    dcgm-exporter chart) is as good as the operator's own."""
    data = load(FIXTURES / "aws.yaml")
    by_name = {e["name"]: e for e in data["resources"]}
    by_name["gpu-operator"]["inputs"]["values"]["dcgmExporter"] = {"enabled": False}
    by_name["serve-hpa"]["inputs"]["spec"]["metrics"] = [
        {
            "type": "External",
            "external": {
                "metric": {"name": "DCGM_FI_DEV_GPU_UTIL"},
                "target": {"type": "AverageValue", "averageValue": "80"},
            },
        }
    ]
    found = [v.message for v in operability(plan(data)) if v.policy == "gpu-metrics-have-dcgm-exporter"]
    assert any(m.startswith("serve: it scales on DCGM_FI_DEV_GPU_UTIL") for m in found), found
    data["resources"].append(
        {
            "type": "kubernetes:helm.sh/v3:Release",
            "name": "dcgm-exporter",
            "provider": "k8s",
            "inputs": {"chart": "dcgm-exporter", "namespace": "monitoring"},
        }
    )
    assert not [v for v in operability(plan(data)) if v.policy == "gpu-metrics-have-dcgm-exporter"]
