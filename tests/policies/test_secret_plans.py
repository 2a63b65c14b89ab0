"""`lepton-infra check` on plans whose values are secrets: each secret is an unknown value, never a shape.

Source: issue 15 item 10. A `pulumi stack export` keeps every secret as the engine's envelope
``{"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "..."}``
(SigKey and SecretSig in pulumi/sdk/go/common/resource/properties.go; apitype.SecretV1 in
pulumi/sdk/go/common/apitype/core.go writes "ciphertext", or "plaintext" before encryption), and
`pulumi preview --json` prints "[secret]". A secret `vpcConfig` was read as an object without
`endpointPrivateAccess` and gave a false "private endpoint access is off". A rule reading a secret is now
undecided, as on a value unknown during preview; a policy document it must judge and cannot read is a
finding, as before (never a pass).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lepton_infra.plan.loaders import load_plan
from lepton_infra.plan.model import Violation
from lepton_infra.plan.packs import OPERABILITY, SECURITY, evaluate_packs, selected

PLANS = Path(__file__).parents[1] / "operability" / "plans_ae54ed7"
SIGNATURE_KEY = "4dabf18193072939515e22adb298388d"
CLUSTER = "aws:eks/cluster:Cluster"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"


def _reviewed(plan: str = "aws-dev") -> dict[str, Any]:
    with gzip.open(PLANS / f"{plan}.json.gz", "rt", encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


def _envelope(value: Any) -> dict[str, Any]:
    return {SIGNATURE_KEY: "1b47061264138c4ac30d75fd1eb44270", "ciphertext": f"v1:{len(json.dumps(value))}"}


def _plaintext(value: Any) -> dict[str, Any]:
    return {SIGNATURE_KEY: "1b47061264138c4ac30d75fd1eb44270", "plaintext": json.dumps(value)}


def _placeholder(value: Any) -> str:
    return "[secret]"


def _as_export(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {"version": 3, "deployment": {"manifest": {}, "resources": resources}}


def _as_preview(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {"steps": [{"op": "create", "newState": r} for r in resources]}


def _with_secrets(
    wrap: Callable[[Any], Any], keys: set[str] | None, types: set[str] | None = None, plan: str = "aws-dev"
) -> list[dict[str, Any]]:
    """The reviewed plan's resources with the inputs named ``keys`` (every one when None) secret."""
    resources = _reviewed(plan)["resources"]
    for resource in resources:
        if types is not None and resource["type"] not in types:
            continue
        inputs = resource.get("inputs") or {}
        for key in list(inputs):
            if keys is None or key in keys:
                inputs[key] = wrap(inputs[key])
    return resources


def _check(tmp_path: Path, document: dict[str, Any]) -> list[Violation]:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(document))
    return evaluate_packs(load_plan(path))


def _undecided(v: Violation) -> bool:
    return v.enforcement == "advisory" and v.message.startswith("can't run policy")


def _secret_problem(v: Violation) -> bool:
    return "it is a secret the plan does not show" in v.message


def test_a_secret_vpc_config_is_undecided_not_a_finding(tmp_path: Path) -> None:
    # The false finding this fixes: a secret vpcConfig read as an object with private access off.
    found = _check(tmp_path, _as_export(_with_secrets(_envelope, {"vpcConfig"}, {CLUSTER})))
    on_cluster = [v for v in found if v.urn and "eks/cluster:Cluster" in v.urn]
    assert not [v for v in on_cluster if "private endpoint" in v.message], on_cluster
    notes = [v.message for v in on_cluster if _undecided(v)]
    assert any("secret value at .vpcConfig can't be read from a saved plan" in n for n in notes), notes


def test_a_secret_pool_input_leaves_the_pool_rules_undecided_and_the_others_deciding(tmp_path: Path) -> None:
    # A secret instanceTypes was read as "no instance type": the fit and scale-from-zero findings of the
    # plain plan vanished without a word. The rules that judge pools now say they could not decide; a
    # rule that reads no pool (the API endpoint's reachability) still reports what it finds.
    packs = selected([OPERABILITY])
    plain = evaluate_packs(load_plan(_write(tmp_path, _reviewed())), None, packs)
    path = _write(tmp_path, _as_export(_with_secrets(_envelope, {"instanceTypes"}, {NODE_GROUP})))
    secret = evaluate_packs(load_plan(path), None, packs)
    notes = {v.policy: v.message for v in secret if _undecided(v)}
    for policy in ("workload-pods-fit-pool-nodes", "node-pool-scales-from-zero"):
        assert any(v.policy == policy for v in plain), f"the plain plan has no {policy} finding to hide"
        assert not [v for v in secret if v.policy == policy and not _undecided(v)]
        assert "secret value at .instanceTypes can't be read from a saved plan" in notes[policy]
    reachable = [v.message for v in plain if v.policy == "kubernetes-api-reachable"]
    assert reachable
    assert reachable == [v.message for v in secret if v.policy == "kubernetes-api-reachable"]


@pytest.mark.parametrize("wrap", [_envelope, _plaintext, _placeholder])
@pytest.mark.parametrize("form", [_as_export, _as_preview])
def test_a_secret_policy_document_is_reported_and_blocks(
    tmp_path: Path, wrap: Callable[[Any], Any], form: Callable[[list[dict[str, Any]]], dict[str, Any]]
) -> None:
    found = _check(tmp_path, form(_with_secrets(wrap, {"policy"}, {ROLE_POLICY})))
    reported = [v for v in found if _secret_problem(v)]
    assert reported, "a secret IAM policy passed"
    assert all(v.blocks for v in reported if v.policy == "aws-iam-policy-disallow-wildcard-action")
    assert {v.urn for v in reported} == {
        r["urn"] for r in _reviewed()["resources"] if r["type"] == ROLE_POLICY and "policy" in r["inputs"]
    }


def _keys(plan: str) -> list[str]:
    return sorted({k for r in _reviewed(plan)["resources"] for k in r.get("inputs") or {}})


# Both packs on the AWS plan; the operability pack, whose pools and clusters are read per cloud, on the
# Azure and Alibaba Cloud plans too.
_SWEEP = [
    *[("aws-dev", pack, key) for pack in (SECURITY, OPERABILITY) for key in _keys("aws-dev")],
    *[(plan, OPERABILITY, key) for plan in ("azure-prod", "alicloud-prod") for key in _keys(plan)],
]


@pytest.mark.parametrize(("plan", "pack", "key"), _SWEEP)
def test_every_input_as_a_secret_gives_no_false_finding_and_no_silent_pass(
    tmp_path: Path, plan: str, pack: str, key: str
) -> None:
    # Each input name of the reviewed plan, secret on every resource at once: every finding of either
    # pack is one the plain plan has, or a secret document reported; every finding of the plain plan is
    # still there, or its rule says it could not decide (on the resource, or for the stack where a stack
    # rule read it). The operability pack read a secret instanceTypes, labels, scalingConfig, subnetIds,
    # chart, spec... as absent: false "pods do not fit" / "no pool scales from zero" findings, and
    # findings that vanished.
    packs = selected([pack])
    plain = {
        (v.policy, v.urn, v.message)
        for v in evaluate_packs(load_plan(_write(tmp_path, _reviewed(plan))), None, packs)
    }
    path = _write(tmp_path, _as_export(_with_secrets(_envelope, {key}, plan=plan)))
    secret = evaluate_packs(load_plan(path), None, packs)
    decided = {(v.policy, v.urn, v.message) for v in secret if not _undecided(v) and not _secret_problem(v)}
    assert decided <= plain, sorted(decided - plain)
    answered = {(v.policy, v.urn) for v in secret} | {(v.policy, None) for v in secret if _undecided(v)}
    silent = {(p, u) for p, u, _ in plain if (p, u) not in answered and (p, None) not in answered}
    assert not silent, sorted(silent)


def _write(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / f"plan-{len(list(tmp_path.iterdir()))}.json"
    path.write_text(json.dumps(document))
    return path
