"""Every private part of the Pulumi SDK the offline engine relies on, behind one door that checks the SDK.

An offline plan runs a program as ``pulumi up`` would, without the engine: it resets and drives the SDK's
runtime (its settings, the stack function, the mock monitor's registry, the wire format) through names
the SDK does not promise to keep. They all live here, so an SDK upgrade is checked in one place, and
``require_supported`` refuses an SDK outside the series these hooks were tested with in one line, before
anything reaches for them. The library's own ``pulumi`` requirement stays wide: users' projects pin
their SDK; only the offline plan needs this one.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import sys
import sysconfig
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar
from urllib.parse import urlparse
from urllib.request import url2pathname

import pulumi
from pulumi.runtime import mocks, rpc, settings, stack, sync_await
from pulumi.runtime import resource as resource_runtime
from pulumi.runtime.proto import resource_pb2, source_pb2

T = TypeVar("T")

# The releases these hooks were tested with: pulumi 3.272.x (constraints.txt pins 3.272.0).
TESTED_SERIES = (3, 272)
TESTED = f"{TESTED_SERIES[0]}.{TESTED_SERIES[1]}.x"

# The mock monitor is the SDK's documented way to see registrations (``set_mocks(monitor=...)``); what a
# subclass reads and writes inside it (``resources``, ``ResourceRegistration``) is not.
MockMonitor = mocks.MockMonitor


class UnsupportedPulumiSdk(RuntimeError):
    """The installed ``pulumi`` is outside the series the offline engine was tested with."""


@cache
def installed_version() -> str:
    return importlib.metadata.version("pulumi")


def require_supported() -> None:
    """Refuse, in one line naming both versions, an SDK these hooks were not tested with."""
    version = installed_version()
    found = re.match(r"(\d+)\.(\d+)", version)
    if found is None or (int(found[1]), int(found[2])) != TESTED_SERIES:
        raise UnsupportedPulumiSdk(
            f"the offline plan was tested with pulumi {TESTED} and relies on its internals, but pulumi "
            f"{version} is installed; install pulumi {TESTED} (constraints.txt pins it) to plan offline, "
            "or run `pulumi preview`"
        )


def start_mocked_run(monitor: Any, mocks_: pulumi.runtime.Mocks, project: str, stack_name: str) -> None:
    """A fresh runtime with ``monitor`` registering every resource, as a new `pulumi up` process has."""
    settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks_, project, stack_name, preview=False, monitor=monitor)
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()


def run_stack(program: Callable[[], object]) -> None:
    """Run ``program`` as the stack's body and wait for every resource and output it started.

    Then the root stack registers its outputs (``pulumi.export``), as `pulumi up` has it do once the
    program returns: ``set_mocks`` made the root stack and registered its (then empty) outputs already.
    """

    def body() -> None:
        program()
        root = settings.get_root_resource()
        if isinstance(root, stack.Stack):
            root._outputs_registered = False
            root._finish()

    await_result(stack.run_pulumi_func(body))


def await_result(awaitable: Awaitable[T]) -> T:
    """Wait on the SDK's event loop from synchronous code (the mock monitor's RPCs are synchronous)."""
    result: T = sync_await._sync_await(awaitable)
    return result


@contextmanager
def without_source_positions() -> Iterator[None]:
    """Skip the SDK's per-resource stack walk: it feeds the CLI's source positions, which a plan never shows.

    It is a tenth of an offline plan's time. Restored on exit; a no-op if the SDK renames the function.
    """
    with _stack_traces(_no_stack_trace):
        yield


@contextmanager
def project_source_positions(root: Path) -> Iterator[None]:
    """Each registration's ``sourcePosition``: the innermost frame of the call in ``root``'s own files.

    The SDK's own walk (``_get_stack_trace``) formats every frame and takes the caller of the resource's
    constructor, which for a child our components create is our library; this one walks the live frames
    (no formatting) for the nearest file under ``root`` that is not an installed package (a virtualenv may
    sit inside the project), so a child gets the line of the user's call that built its component. A
    resource created on the event loop (inside an ``apply``) has no such frame: the SDK sends no position.
    """
    base = os.path.realpath(root) + os.sep
    # Installed code: a virtualenv's packages (inside the project or not) and the standard library.
    installed = tuple(f"{os.sep}{name}{os.sep}" for name in ("site-packages", "dist-packages"))
    stdlib = os.path.realpath(sysconfig.get_paths()["stdlib"]) + os.sep
    ours: dict[str, bool] = {}

    def in_project(filename: str) -> bool:
        known = ours.get(filename)
        if known is None:
            path = os.path.realpath(filename)
            known = path.startswith(base) and not path.startswith(stdlib)
            known = ours[filename] = known and not any(part in path for part in installed)
        return known

    def stack_trace() -> source_pb2.StackTrace:
        frame: FrameType | None = sys._getframe(1)
        while frame is not None:
            if in_project(frame.f_code.co_filename):
                uri = Path(os.path.realpath(frame.f_code.co_filename)).as_uri()
                position = source_pb2.SourcePosition(uri=uri, line=frame.f_lineno)
                return source_pb2.StackTrace(frames=[source_pb2.StackFrame(pc=position)])
            frame = frame.f_back
        return source_pb2.StackTrace()

    with _stack_traces(stack_trace):
        yield


@contextmanager
def _stack_traces(replacement: Callable[[], source_pb2.StackTrace]) -> Iterator[None]:
    """The SDK's stack walk replaced by ``replacement`` (the SDK sends its first frame as the resource's
    ``sourcePosition``); restored on exit, a no-op if the SDK renames the function."""
    original = getattr(resource_runtime, "_get_stack_trace", None)
    if original is None:
        yield
        return
    resource_runtime._get_stack_trace = replacement
    try:
        yield
    finally:
        resource_runtime._get_stack_trace = original


def _no_stack_trace() -> source_pb2.StackTrace:
    return source_pb2.StackTrace()


def source_position(request: Any) -> tuple[Path, int] | None:
    """A RegisterResource or ReadResource request's ``sourcePosition`` as a file and a line, if it has one."""
    if not request.HasField("sourcePosition") or not request.sourcePosition.uri.startswith("file:"):
        return None
    position = request.sourcePosition
    return Path(url2pathname(urlparse(position.uri).path)), int(position.line)


def request_inputs(request: Any) -> dict[str, Any]:
    """A RegisterResource request's inputs as SDK values (secrets and unknowns still marked)."""
    inputs: dict[str, Any] = rpc.deserialize_properties(request.object)
    return inputs


def properties(struct: Any) -> dict[str, Any]:
    """Properties on the wire (a request's outputs, a read's state) as SDK values, secrets still marked."""
    values: dict[str, Any] = rpc.deserialize_properties(struct)
    return values


def is_secret(value: Any) -> bool:
    return bool(rpc.is_rpc_secret(value))


def secret(value: Any) -> Any:
    """``value`` marked secret, as the wire carries a secret."""
    return rpc.wrap_rpc_secret(value)


def reveal_secrets(value: Any) -> tuple[Any, bool]:
    """``value`` with every secret mark inside taken off, and whether there was one."""
    if rpc.is_rpc_secret(value):
        return reveal_secrets(rpc.unwrap_rpc_secret(value))[0], True
    if isinstance(value, dict):
        pairs = {k: reveal_secrets(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(s for _, s in pairs.values())
    if isinstance(value, list):
        items = [reveal_secrets(v) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


def remember(monitor: Any, urn: str, identifier: str, state: dict[str, Any]) -> None:
    """Record a resource in the mock monitor, so reads, invokes and references to it resolve."""
    monitor.resources[urn] = MockMonitor.ResourceRegistration(urn, identifier, state)


def register_response(urn: str, identifier: str = "", state: dict[str, Any] | None = None) -> Any:
    """The monitor's answer to RegisterResource: the URN, the id and the state on the wire."""
    if state is None:
        return resource_pb2.RegisterResourceResponse(urn=urn)
    wire_state = await_result(rpc.serialize_properties(state, {}))
    return resource_pb2.RegisterResourceResponse(urn=urn, id=identifier, object=wire_state)
