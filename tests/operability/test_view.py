"""The neutral view: the same resource reads the same from a plan and from the analyzer, unknowns stay
visible to the rule, and the operability pack checks a plan without ever loading pulumi_policy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from op_fixtures import before
from plan_helpers import ROOT

from lepton_infra.plan.model import PlanResource
from lepton_infra.plan.view import resource_view
from lepton_infra.policies.values import UNKNOWN_SENTINELS, is_unknown
from lepton_infra.policies.view import Resource, Stack

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
STACK = "urn:pulumi:s::p::"


def test_plan_resources_become_views_with_provider_urns_and_engine_options() -> None:
    planned = PlanResource(
        urn=f"{STACK}kubernetes:batch/v1:Job::job",
        type="kubernetes:batch/v1:Job",
        name="job",
        custom=True,
        inputs={"metadata": {"name": "job"}},
        parent=f"{STACK}lepton:kubernetes:TrainingJob::t",
        provider=f"{STACK}pulumi:providers:kubernetes::k8s::0123",
        protect=True,
        dependencies=(f"{STACK}x::y",),
        property_dependencies={"metadata": (f"{STACK}x::y",)},
        options={"customTimeouts": {"create": "30m"}},
    )
    view = resource_view(planned)
    assert view.provider == f"{STACK}pulumi:providers:kubernetes::k8s"
    assert view.parent == planned.parent and view.dependencies == planned.dependencies
    assert view.option("protect") is True and view.option("customTimeouts") == {"create": "30m"}
    assert view.get("metadata", "name") == "job"


def test_analyzer_resources_become_the_same_views_with_unknowns_kept() -> None:
    from pulumi_policy import (
        PolicyCustomTimeouts,
        PolicyProviderResource,
        PolicyResource,
        PolicyResourceOptions,
    )
    from pulumi_policy.proxy import unknown_checking_proxy

    from lepton_infra.policies.pack import view_of

    provider = PolicyProviderResource(
        "pulumi:providers:kubernetes", {}, f"{STACK}pulumi:providers:kubernetes::k8s", "k8s"
    )
    options = PolicyResourceOptions(True, [], True, [], PolicyCustomTimeouts(1800, 0, 0), [], None)
    props = unknown_checking_proxy(
        {"metadata": {"name": UNKNOWN, "labels": {"a": "b"}}, "items": [UNKNOWN, 1.0]}
    )
    parent = PolicyResource("lepton:x:Y", {}, f"{STACK}lepton:x:Y::c", "c", options, None, None, [], {})
    job = PolicyResource(
        "kubernetes:batch/v1:Job",
        props,
        f"{STACK}kubernetes:batch/v1:Job::job",
        "job",
        options,
        provider,
        parent,
        [parent],
        {"metadata": [parent]},
    )
    stack = view_of([parent, job])
    view = stack.get(job.urn)
    assert view is not None
    assert is_unknown(view.get("metadata", "name")) and view.get("metadata", "labels") == {"a": "b"}
    assert view.get("items") == [UNKNOWN, 1.0]
    assert view.provider == provider.urn and view.parent == parent.urn
    assert view.property_dependencies == {"metadata": (parent.urn,)}
    assert view.option("customTimeouts") == {"create": "1800s"} and view.option("deleteBeforeReplace") is True
    assert [a.urn for a in stack.ancestors(view)] == [parent.urn]


def test_every_unknown_sentinel_reads_as_unknown_and_nothing_else_does() -> None:
    assert all(is_unknown(s) for s in UNKNOWN_SENTINELS)
    assert not any(is_unknown(v) for v in ("", "true", 0, None, {}))


def test_stack_indexes_by_type_parent_and_dependency() -> None:
    a = Resource("t:a", "a", "u:a", {})
    b = Resource(
        "t:b", "b", "u:b", {}, parent="u:a", dependencies=("u:a",), property_dependencies={"x": ("u:a",)}
    )
    stack = Stack([a, b])
    assert stack.of_type("t:b") == [b] and stack.children("u:a") == [b]
    assert stack.references(b, "x") == [a] and stack.references(b, "missing") == [a]
    assert stack.memo("k", len) == 2 and stack.memo("k", lambda s: 0) == 2


def test_operability_check_of_a_saved_plan_never_loads_pulumi_policy(tmp_path: Path) -> None:
    # Issue 16: start-up counts; the check path of a pack on the neutral view imports no pulumi_policy.

    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(before("aws-dev").to_json()))
    script = (
        "import sys\n"
        "from lepton_infra.cli import main\n"
        f"code = main(['check', {str(plan_file)!r}, '--pack', 'lepton-operability', '--format', 'json'])\n"
        "assert code == 1, code\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi_policy', 'grpc'))\n"
        "print('LOADED', loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert "LOADED []" in result.stdout, result.stdout[-500:]
