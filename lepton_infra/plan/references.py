"""The stacks a stack's program reads through stack references, planned offline to serve their outputs.

A Kubernetes layer (``deployment.layer: kubernetes``) reads its cloud layer's outputs. Offline, the cloud
layer is a stack of the same project with its stack file here: its own offline plan gives the outputs, as
its `pulumi up` would have exported them (fake IDs and addresses included), secrets marked as secrets.
"""

from __future__ import annotations

from collections.abc import Callable

from lepton_infra.blueprint import PlatformSpec
from lepton_infra.blueprint.deployment import Layer
from lepton_infra.errors import ConfigError, ConfigIssue, PathPart
from lepton_infra.plan.model import Plan, StackOutputs
from lepton_infra.project import PLATFORM_KEY, PulumiProject, StackConfig, platform_spec, read_stack_config

_FIELD: list[PathPart] = [PLATFORM_KEY, "deployment", "cloud_stack"]


def referenced_outputs(
    project: PulumiProject,
    config: StackConfig,
    spec: PlatformSpec,
    run: Callable[[PulumiProject, StackConfig], Plan],
) -> dict[str, StackOutputs]:
    """The outputs of the cloud stack ``spec`` reads, by its fully qualified name, from ``run``-ning
    that stack's program offline; none when the stack reads no other stack."""
    cloud_stack = spec.deployment.cloud_stack
    if spec.deployment.layer is not Layer.KUBERNETES or cloud_stack is None:
        return {}
    _, project_name, stack = cloud_stack.split("/")

    def refuse(message: str) -> ConfigError:
        path = f"{PLATFORM_KEY}.deployment.cloud_stack"
        return ConfigError(config.source, [ConfigIssue(path, message, config.line_of(_FIELD))])

    if project_name != project.name:
        raise refuse(
            f"project {project_name!r} is not this project ({project.name!r}): the offline plan reads a "
            "cloud layer from the stack file of a stack of this project"
        )
    if not project.stack_file(stack).is_file():
        raise refuse(
            f"no stack file {project.stack_file(stack).name} in {project.stack_config_dir}: the offline "
            f"plan reads the cloud layer {cloud_stack!r} from its local stack file; plan where it is"
        )
    cloud_config = read_stack_config(project, stack)
    layer = platform_spec(cloud_config).deployment.layer
    if layer is not Layer.CLOUD:
        raise refuse(
            f"stack {stack!r} deploys layer {layer.value!r}, not a cloud layer: point to the stack that "
            "deploys `deployment.layer: cloud`"
        )
    return {cloud_stack: run(project, cloud_config).outputs}
