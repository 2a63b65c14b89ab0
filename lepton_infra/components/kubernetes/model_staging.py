"""The model stager: an init container that copies the newest export to the pod's local disk.

vLLM (and many custom servers) read a model only from local files, never from ``s3://``, ``az://`` or
``oss://``. Before the server starts, the stager (``stager/``: ``python -m stager``) follows the contract's
``<CHECKPOINT_DIR>/export/latest`` marker and copies that export into an emptyDir, which the server then
mounts read-only. It runs under the pod's ServiceAccount, so with the workload's cloud identity: the EKS pod
identity webhook injects IRSA's token and variables into init containers as well as containers
(aws/amazon-eks-pod-identity-webhook#77 asks for a way to exclude them; kubernetes/kops#16802 shows it
mutating initContainers). It waits for a first export, as our server waits for a first checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi_kubernetes as k8s

from lepton_infra.blueprint.servers import StagedModelSpec
from lepton_infra.components.kubernetes.pod_builder import PodBuilder
from lepton_infra.components.kubernetes.pod_security import Volume, disk_empty_dir
from lepton_infra.contract import CHECKPOINT_DIR_ENV

STAGER_CONTAINER = "stage-model"
MODEL_VOLUME = "model"
MODEL_MOUNT = "/models"
# The folder the stager fills (whole or not at all) and the server reads: $(LEPTON_MODEL_DIR).
MODEL_DIR = f"{MODEL_MOUNT}/current"


@dataclass(frozen=True)
class StagedModel:
    """The stager's init container, and the model volume as the server mounts it (read-only)."""

    init_container: k8s.core.v1.ContainerArgs
    server_volume: Volume


def staged_model(pods: PodBuilder, staging: StagedModelSpec) -> StagedModel:
    writable = disk_empty_dir(MODEL_VOLUME, MODEL_MOUNT, staging.model_disk_gib)
    # The same volume, so the same disk: the server's ephemeral-storage request covers the weights too.
    read_only = Volume(
        writable.volume,
        k8s.core.v1.VolumeMountArgs(name=MODEL_VOLUME, mount_path=MODEL_MOUNT, read_only=True),
        disk_gib=writable.disk_gib,
    )
    # Its own /tmp (fsspec's and the SDKs' temporary files), and the checkpoint claim where there is one.
    volumes = [writable, *pods.volumes()]
    stager = pods.init_container(
        name=STAGER_CONTAINER,
        image=staging.stager_image,
        volumes=volumes,
        command=["python", "-m", "stager"],
        args=["--source", f"$({CHECKPOINT_DIR_ENV})", "--destination", MODEL_DIR],
        env=pods.platform_env(),
    )
    return StagedModel(stager, read_only)
