"""A component's bad inputs are refused as Pulumi refuses them: one ``pulumi.InputPropertiesError`` naming
every bad property by its path, raised when the ``Args`` are built, before anything is registered (issue 17:
before, ``EksClusterArgs(kubernetes_version="banana")`` planned fine).

The error type and its ``errors`` details are the SDK's (pulumi/errors.py); a provider's ``Construct`` turns
them into the engine's INVALID_ARGUMENT status with one ``PropertyError`` per path
(pulumi/provider/experimental/server.py), which is what the multi-language package's users see.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import grpc
import pulumi
import pytest
from pulumi.provider.experimental.server import ProviderServicer
from pulumi.runtime.proto import errors_pb2, status_pb2

from lepton_infra.catalog import Resources
from lepton_infra.components.args import PULUMI_NAMES, InvalidArgs, _describe
from lepton_infra.components.aws import AwsEksClusterArgs, AwsManagedNodeGroupArgs
from lepton_infra.components.handle import ClusterHandle, ServiceAccountBinding
from lepton_infra.components.kubernetes.tenancy import TenantNamespaceArgs
from lepton_infra.docs.page import sections
from lepton_infra.validation import InvalidInput

EKS = {"cluster_name": "gpu", "kubernetes_version": "1.33", "subnet_ids": ["subnet-1"], "kms_key_arn": "k"}
NODES = {
    "cluster_name": "gpu",
    "kubernetes_version": "1.33",
    "node_role_arn": "arn:aws:iam::123456789012:role/nodes",
    "subnet_ids": ["subnet-1"],
    "instance_type": "m7i.xlarge",
    "min_nodes": 1,
    "max_nodes": 3,
    "kms_key_arn": "k",
}
EVERY_ARGS = [c.args for s in sections() for c in s.components if c.args is not None]


def refused(make: Any, **kwargs: Any) -> dict[str, str]:
    with pytest.raises(pulumi.InputPropertiesError) as raised:
        make(**kwargs)
    errors = raised.value.errors or []
    return {e["property_path"]: e["reason"] for e in errors}


def test_an_unsupported_kubernetes_version_is_refused_with_every_other_bad_property() -> None:
    bad = refused(
        AwsEksClusterArgs,
        **EKS | {"kubernetes_version": "banana", "cluster_name": "-gpu", "log_retention_days": 13},
        api_allowlist=["203.0.113.0/24", "0.0.0.0/0"],
    )
    assert set(bad) == {"kubernetes_version", "cluster_name", "log_retention_days", "api_allowlist"}
    assert "'banana' is not supported" in bad["kubernetes_version"]
    assert "0.0.0.0/0" in bad["api_allowlist"]


def test_an_allowlist_is_judged_whole_and_its_items_by_type() -> None:
    # The ranges mean something together (the spec's rule, validation.api_allowlist): checked as one list.
    assert refused(AwsEksClusterArgs, **EKS, api_allowlist=["0.0.0.0/0", "::/0"]).keys() == {"api_allowlist"}
    # An item that is no string is named at its index, and the list is not judged on a guess.
    bad = refused(AwsEksClusterArgs, **EKS, api_allowlist=["0.0.0.0/0", 10])
    assert bad == {"api_allowlist[1]": "must be a string, not int 10"}


def test_a_wrongly_typed_value_is_named_by_its_path_and_what_it_should_be() -> None:
    bad = refused(AwsEksClusterArgs, **EKS | {"log_retention_days": "90"}, tags={"team": 3})
    assert bad == {
        "log_retention_days": "must be an integer, not str '90'",
        "tags.team": "must be a string, not int 3",
    }


def test_a_bad_field_of_a_nested_input_is_named_by_its_index_and_field() -> None:
    from lepton_infra.components.aws.node_group import NodeTaint

    taints = [NodeTaint("nvidia.com/gpu", "true"), NodeTaint("nvidia.com/gpu", "true", effect="NoSchedule")]
    bad = refused(AwsManagedNodeGroupArgs, **NODES | {"min_nodes": 5}, taints=taints)
    assert set(bad) == {"taints[1].effect", "min_nodes"}


def test_args_built_again_are_checked_again() -> None:
    # Each Args class's annotations are resolved once per process (a plan builds hundreds of components):
    # good args built first must not let bad ones of the same class through afterwards.
    AwsEksClusterArgs(**EKS)
    assert refused(AwsEksClusterArgs, **EKS | {"log_retention_days": "90"}) == {
        "log_retention_days": "must be an integer, not str '90'"
    }


def test_values_known_only_once_resources_exist_are_left_to_the_cloud() -> None:
    # An Output may stand for any value its annotation allows; the cloud's API checks it when it is known.
    AwsEksClusterArgs(**EKS | {"kms_key_arn": pulumi.Output.from_input("arn:aws:kms:key")})


def test_a_kubernetes_component_refuses_a_namespace_kubernetes_would() -> None:
    # Live parts of the handle (its provider, its binder) are not the Args' to check: stand-ins do here.
    handle = ClusterHandle(
        site="aws",
        provider=None,  # type: ignore[arg-type]
        kubeconfig=pulumi.Output.from_input("{}"),
        registry=pulumi.Output.from_input("registry.example"),
        artifact_bucket_uri=pulumi.Output.from_input("s3://artifacts"),
        bind_service_account=lambda namespace, account: ServiceAccountBinding(),
    )
    quota = Resources(gpus=8, cpu_millicores=64_000, memory_mib=512 * 1024)
    TenantNamespaceArgs(handle, "team-a", quota)
    bad = refused(TenantNamespaceArgs, handle=handle, namespace="Team_A", quota=quota)
    assert list(bad) == ["namespace"]
    assert "a namespace name" in bad["namespace"]


@pytest.mark.parametrize("args", EVERY_ARGS, ids=lambda a: a.__name__)
def test_every_public_args_names_each_wrongly_typed_field_at_once(args: type) -> None:
    """Every plain-data field given a value of no type it allows: one error, each field by name."""
    import typing

    hints = typing.get_type_hints(args, localns=PULUMI_NAMES)
    plain = [f.name for f in dataclasses.fields(args) if _describe(hints[f.name]) is not None]
    kwargs: dict[str, Any] = {name: Wrong() for name in plain}
    for f in dataclasses.fields(args):
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if required and f.name not in kwargs:
            kwargs[f.name] = None  # a live object (a resource, a workload spec): not these Args' to check
    assert set(refused(args, **kwargs)) == set(plain)


def test_the_engine_gets_one_property_error_per_path() -> None:
    with pytest.raises(InvalidArgs) as raised:
        AwsEksClusterArgs(**EKS | {"kubernetes_version": "banana", "log_retention_days": 13})
    error = raised.value
    status = ProviderServicer.create_grpc_invalid_properties_status(
        None,  # type: ignore[arg-type]  # the method reads nothing of its provider
        error.message,
        error.errors,
    )
    assert status.code == grpc.StatusCode.INVALID_ARGUMENT
    details = status_pb2.Status.FromString(dict(status.trailing_metadata)["grpc-status-details-bin"])
    unpacked = errors_pb2.InputPropertiesError()
    assert details.details[0].Unpack(unpacked)
    assert [e.property_path for e in unpacked.errors] == ["kubernetes_version", "log_retention_days"]
    assert error.message.startswith("invalid AwsEksClusterArgs: kubernetes_version: 'banana'")


def test_callers_that_catch_a_value_error_still_do() -> None:
    with pytest.raises(InvalidInput) as raised:
        AwsEksClusterArgs(**EKS | {"kubernetes_version": "banana"})
    assert isinstance(raised.value, ValueError)
    assert [p.path for p in raised.value.problems] == ["kubernetes_version"]


class Wrong:
    """A value of no type any field allows."""

    def __repr__(self) -> str:
        return "Wrong()"
