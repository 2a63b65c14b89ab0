"""Where a workload's checkpoints live, handed to its container as ``CHECKPOINT_DIR_ENV`` (the contract's).

A bucket location is a URI under the site's artifact bucket (``s3://``, ``az://``, ``oss://``: the workloads
read and write it through fsspec), with whatever environment the site says pods need to reach it besides
their identity (``ClusterHandle.artifact_env``); a volume location is a directory on a
PersistentVolumeClaim (ReadWriteMany, since every node of a job writes to, and every replica reads, the same
files). Training creates the claim when the spec sizes it; serving only ever mounts one read-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from lepton_infra.blueprint.workloads import BucketCheckpointSpec, CheckpointSpec
from lepton_infra.components.handle import ClusterHandle
from lepton_infra.components.kubernetes.pod_security import Volume, claim_volume
from lepton_infra.contract import CHECKPOINT_DIR_ENV

CHECKPOINT_MOUNT = "/checkpoints"


@dataclass(frozen=True)
class CheckpointLocation:
    directory: pulumi.Input[str]
    volumes: tuple[Volume, ...] = ()
    store_env: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)

    def env(self) -> list[k8s.core.v1.EnvVarArgs]:
        store = [k8s.core.v1.EnvVarArgs(name=n, value=self.store_env[n]) for n in sorted(self.store_env)]
        return [k8s.core.v1.EnvVarArgs(name=CHECKPOINT_DIR_ENV, value=self.directory), *store]


def checkpoint_location(
    checkpoint: CheckpointSpec, workload: str, handle: ClusterHandle, read_only: bool
) -> CheckpointLocation:
    if isinstance(checkpoint, BucketCheckpointSpec):
        prefix = checkpoint.prefix or f"checkpoints/{workload}"
        directory = pulumi.Output.concat(handle.artifact_bucket_uri, "/", prefix)
        return CheckpointLocation(directory, store_env=handle.artifact_env)
    volume = claim_volume("checkpoints", checkpoint.claim_name, CHECKPOINT_MOUNT, read_only)
    return CheckpointLocation(CHECKPOINT_MOUNT, (volume,))


def checkpoint_claim(
    name: str,
    checkpoint: CheckpointSpec,
    namespace: str,
    labels: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> k8s.core.v1.PersistentVolumeClaim | None:
    """The claim a training job writes to, when the spec asks for one to be created."""
    if isinstance(checkpoint, BucketCheckpointSpec) or checkpoint.size_gib is None:
        return None
    return k8s.core.v1.PersistentVolumeClaim(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=checkpoint.claim_name, namespace=namespace, labels=labels),
        spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
            access_modes=["ReadWriteMany"],
            storage_class_name=checkpoint.storage_class,
            resources=k8s.core.v1.VolumeResourceRequirementsArgs(
                requests={"storage": f"{checkpoint.size_gib}Gi"}
            ),
        ),
        # Checkpoints are weeks of GPU time: a stack change must never delete them.
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=True)),
    )
