"""The package's provider plugin under a fake engine, as `pulumi up` runs it, with no Pulumi CLI.

The plugin runs in its own process, started the way the Python language host starts it (``python provider/
<engine address>``; it prints its port). Construct resets the SDK's runtime settings to the monitor the
request names, so Pulumi's mocks (``set_mocks``) cannot stand in: the engine and the resource monitor here are
real gRPC servers on loopback. The monitor records every registration with the offline plan's recorder and
answers with its fakes, so a component built over gRPC can be compared with the same component built by a
Python program under ``lepton-infra plan``'s mocks.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import (
    engine_pb2,
    engine_pb2_grpc,
    errors_pb2,
    provider_pb2,
    provider_pb2_grpc,
    resource_pb2,
    resource_pb2_grpc,
    status_pb2,
)

from lepton_infra.plan.mocks import PlanMocks
from lepton_infra.plan.model import PlanResource, StackOutputs
from lepton_infra.plan.recorder import RecordingMonitor, plain

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_DIR = ROOT / "provider"
PROJECT, STACK = "consumer", "dev"
STACK_URN = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{STACK}"


class _Recorder(RecordingMonitor):
    """The offline plan's recorder, with URNs of this engine's project and stack (no SDK settings here)."""

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        if parent and parent != STACK_URN:
            type_ = parent.split("::")[2] + "$" + type_
        return "urn:pulumi:" + "::".join([STACK, PROJECT, type_, name])


class _Monitor(resource_pb2_grpc.ResourceMonitorServicer):
    def __init__(self) -> None:
        self.recorder = _Recorder(PlanMocks())

    def GetDeploymentInfo(self, request: Any, context: Any) -> Any:
        return self.recorder.GetDeploymentInfo(request)

    def SupportsFeature(self, request: Any, context: Any) -> Any:
        # As the SDK's mock monitor: no output values, so inputs arrive resolved.
        return resource_pb2.SupportsFeatureResponse(hasSupport=request.id != "outputValues")

    def RegisterResource(self, request: Any, context: Any) -> Any:
        return self.recorder.RegisterResource(request)

    def RegisterResourceOutputs(self, request: Any, context: Any) -> Any:
        return empty_pb2.Empty()

    def ReadResource(self, request: Any, context: Any) -> Any:
        # A stack reference: answered with the outputs `serve_stack` gave, as the offline plan answers it.
        return self.recorder.ReadResource(request)

    def Invoke(self, request: Any, context: Any) -> Any:
        return self.recorder.Invoke(request)

    def RegisterPackage(self, request: Any, context: Any) -> Any:
        return resource_pb2.RegisterPackageResponse(ref="fake-package")


class _Engine(engine_pb2_grpc.EngineServicer):
    def __init__(self) -> None:
        self.messages: list[tuple[int, str]] = []

    def Log(self, request: Any, context: Any) -> Any:
        self.messages.append((request.severity, request.message))
        return empty_pb2.Empty()

    def GetRootResource(self, request: Any, context: Any) -> Any:
        return engine_pb2.GetRootResourceResponse(urn=STACK_URN)

    def SetRootResource(self, request: Any, context: Any) -> Any:
        return engine_pb2.SetRootResourceResponse()


def property_errors(error: grpc.RpcError) -> list[tuple[str, str]]:
    """(property path, reason) of each input a provider refused, as the engine reads them from the status."""
    details = dict(error.trailing_metadata() or ()).get("grpc-status-details-bin")  # type: ignore[attr-defined]
    if details is None:
        return []
    status = status_pb2.Status.FromString(details)
    found: list[tuple[str, str]] = []
    for detail in status.details:
        errors = errors_pb2.InputPropertiesError()
        detail.Unpack(errors)
        found += [(e.property_path, e.reason) for e in errors.errors]
    return found


def secret(value: Any) -> dict[str, Any]:
    """``value`` as the wire marks a plain secret."""
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


def resource_reference(urn: str, identifier: str, version: str = "") -> dict[str, Any]:
    """A custom resource of the program (another package's) as the wire refers to it."""
    return {
        rpc._special_sig_key: rpc._special_resource_sig,
        "urn": urn,
        "id": identifier,
        "packageVersion": version,
    }


def output(value: Any, *dependencies: str, is_secret: bool = False) -> dict[str, Any]:
    """Another resource's output as the engine hands it to a provider that accepts outputs (ours does)."""
    encoded = {
        rpc._special_sig_key: rpc._special_output_value_sig,
        "value": value,
        "dependencies": list(dependencies),
    }
    return {**encoded, "secret": True} if is_secret else encoded


@dataclass
class Constructed:
    urn: str
    state: dict[str, Any]
    resources: list[PlanResource]


@dataclass
class FakeEngine:
    """The engine and resource monitor, and the provider plugin process they talk to."""

    monitor: _Monitor = field(default_factory=_Monitor)
    engine: _Engine = field(default_factory=_Engine)

    def __post_init__(self) -> None:
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        resource_pb2_grpc.add_ResourceMonitorServicer_to_server(self.monitor, self.server)
        engine_pb2_grpc.add_EngineServicer_to_server(self.engine, self.server)
        self.address = f"127.0.0.1:{self.server.add_insecure_port('127.0.0.1:0')}"
        self.server.start()
        # The language host runs the plugin directory with the engine's address, as PulumiPlugin.yaml asks.
        self.plugin = subprocess.Popen(
            [sys.executable, str(PLUGIN_DIR), self.address],
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])},
        )
        assert self.plugin.stdout is not None
        port = self.plugin.stdout.readline().decode().strip()
        assert port.isdigit(), f"the plugin printed {port!r} instead of its port"
        self.provider = provider_pb2_grpc.ResourceProviderStub(grpc.insecure_channel(f"127.0.0.1:{port}"))

    def close(self) -> None:
        self.plugin.terminate()
        self.plugin.wait(timeout=10)
        self.server.stop(grace=None)

    def register(self, type_: str, name: str, inputs: dict[str, Any]) -> tuple[str, str]:
        """Register a resource as the program would before it constructs a component; its URN and ID."""
        struct = struct_pb2.Struct()
        struct.update(inputs)
        request = resource_pb2.RegisterResourceRequest(
            type=type_, name=name, custom=True, parent=STACK_URN, object=struct
        )
        response = self.monitor.RegisterResource(request, None)
        return str(response.urn), str(response.id)

    def provider_resource(self, package: str, name: str, inputs: dict[str, Any]) -> str:
        """Register a provider as the program would (``new aws.Provider(...)``); its reference."""
        urn, identifier = self.register(f"pulumi:providers:{package}", name, inputs)
        return f"{urn}::{identifier}"

    def construct(
        self,
        type_: str,
        name: str,
        inputs: dict[str, Any],
        *,
        providers: dict[str, str] | None = None,
        dependencies: dict[str, list[str]] | None = None,
        depends_on: list[str] | None = None,
    ) -> Constructed:
        """Construct a component as a program in another language asks for it; what it registered.

        ``dependencies``: each input's resources; ``depends_on``: the component's ``dependsOn`` option."""
        struct = struct_pb2.Struct()
        struct.update(inputs)
        first = len(self.monitor.recorder.recorded)
        response = self.provider.Construct(
            provider_pb2.ConstructRequest(
                project=PROJECT,
                stack=STACK,
                type=type_,
                name=name,
                parent=STACK_URN,
                inputs=struct,
                inputDependencies={
                    key: provider_pb2.ConstructRequest.PropertyDependencies(urns=urns)
                    for key, urns in (dependencies or {}).items()
                },
                providers=providers or {},
                dependencies=depends_on or [],
                monitorEndpoint=self.address,
                dryRun=True,
            )
        )
        state = plain(rpc.deserialize_properties(response.state))
        return Constructed(response.urn, state, self.monitor.recorder.recorded[first:])

    def serve_stack(self, stack: str, outputs: StackOutputs) -> None:
        """Answer a stack reference to ``stack`` (a fully qualified name) with ``outputs``, as the engine
        answers it from that stack's state."""
        self.monitor.recorder.plan_mocks.stack_outputs[stack] = outputs

    def schema(self) -> str:
        response = self.provider.GetSchema(provider_pb2.GetSchemaRequest(version=0))
        return str(response.schema)

    def version(self) -> str:
        return str(self.provider.GetPluginInfo(empty_pb2.Empty()).version)
