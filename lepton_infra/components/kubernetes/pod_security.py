"""The hardened container and pod every workload gets: Pod Security Standards "restricted", and more.

Non-root UID/GID 10001 (the workload images' user), no privilege escalation, every capability dropped,
RuntimeDefault seccomp, a read-only root filesystem with writable ``emptyDir``s where a process needs
to write, CPU and memory requests equal to limits (Guaranteed QoS: the kubelet's CPU and topology managers
then pin GPU pods to whole cores next to their GPUs), and GPUs requested and limited alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from lepton_infra.blueprint.workloads import ResourcesSpec
from lepton_infra.catalog import pod_ephemeral_gib
from lepton_infra.components.gpu_nodes import GPU_RESOURCE
from lepton_infra.components.handle import NodePlacement

WORKLOAD_UID = 10001
WORKLOAD_GID = 10001
TMP_MOUNT = "/tmp"
EPHEMERAL_STORAGE = "ephemeral-storage"


@dataclass(frozen=True)
class Volume:
    """A pod volume and where the main container mounts it."""

    volume: k8s.core.v1.VolumeArgs
    mount: k8s.core.v1.VolumeMountArgs
    # The node disk the volume may fill: a disk-backed emptyDir's size limit; 0 for tmpfs and claims.
    disk_gib: int = 0


def disk_empty_dir(name: str, mount_path: str, size_gib: int) -> Volume:
    """An emptyDir on the node's disk, limited to ``size_gib``: it counts against the pod's ephemeral
    storage ("emptyDir volumes, except tmpfs emptyDir volumes", https://kubernetes.io/docs/concepts/
    configuration/manage-resources-containers/#local-ephemeral-storage), so it is requested too
    (``ephemeral_gib``)."""
    return Volume(
        k8s.core.v1.VolumeArgs(
            name=name, empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit=f"{size_gib}Gi")
        ),
        k8s.core.v1.VolumeMountArgs(name=name, mount_path=mount_path),
        disk_gib=size_gib,
    )


def memory_empty_dir(name: str, mount_path: str, size_mib: int) -> Volume:
    """A tmpfs emptyDir (``medium: Memory``, /dev/shm): what is written there is charged to the writing
    container's memory, not to ephemeral storage ("files you write count against your container's memory
    limit", https://kubernetes.io/docs/concepts/storage/volumes/#emptydir), so it asks no disk."""
    return Volume(
        k8s.core.v1.VolumeArgs(
            name=name,
            empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(medium="Memory", size_limit=f"{size_mib}Mi"),
        ),
        k8s.core.v1.VolumeMountArgs(name=name, mount_path=mount_path),
    )


def ephemeral_gib(volumes: Sequence[Volume]) -> int:
    """The ``ephemeral-storage`` a container mounting ``volumes`` asks for: their disk-backed emptyDirs and
    its logs (``catalog.pod_ephemeral_gib``)."""
    return pod_ephemeral_gib(sum(v.disk_gib for v in volumes))


def claim_volume(name: str, claim_name: str, mount_path: str, read_only: bool) -> Volume:
    return Volume(
        k8s.core.v1.VolumeArgs(
            name=name,
            persistent_volume_claim=k8s.core.v1.PersistentVolumeClaimVolumeSourceArgs(
                claim_name=claim_name, read_only=read_only
            ),
        ),
        k8s.core.v1.VolumeMountArgs(name=name, mount_path=mount_path, read_only=read_only),
    )


def container_security() -> k8s.core.v1.SecurityContextArgs:
    return k8s.core.v1.SecurityContextArgs(
        run_as_non_root=True,
        run_as_user=WORKLOAD_UID,
        run_as_group=WORKLOAD_GID,
        allow_privilege_escalation=False,
        privileged=False,
        read_only_root_filesystem=True,
        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def pod_security() -> k8s.core.v1.PodSecurityContextArgs:
    return k8s.core.v1.PodSecurityContextArgs(
        run_as_non_root=True,
        run_as_user=WORKLOAD_UID,
        run_as_group=WORKLOAD_GID,
        # Mounted volumes (checkpoint claims) become group-writable for the workload's GID.
        fs_group=WORKLOAD_GID,
        fs_group_change_policy="OnRootMismatch",
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def guaranteed_resources(
    resources: ResourcesSpec,
    gpus: int,
    extended: Mapping[str, int] | None = None,
    ephemeral_gib: int | None = None,
) -> k8s.core.v1.ResourceRequirementsArgs:
    """Requests equal to limits; device plugins' extended resources (GPUs, a fabric's devices) must have
    requests equal to limits anyway ("Extended resources ... cannot be overcommitted",
    https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#extended-resources).

    ``ephemeral_gib``, the disk the container's emptyDirs and logs take (``ephemeral_gib(volumes)``), is
    requested as ``ephemeral-storage`` so the scheduler places the pod only where the node has that much
    (https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/
    #setting-requests-and-limits-for-local-ephemeral-storage), and limited alike."""
    amounts = {
        "cpu": f"{resources.cpu_millicores}m",
        "memory": f"{resources.memory_mib}Mi",
        **({GPU_RESOURCE: str(gpus)} if gpus else {}),
        **{name: str(count) for name, count in (extended or {}).items()},
    }
    if ephemeral_gib:
        amounts[EPHEMERAL_STORAGE] = f"{ephemeral_gib}Gi"
    return k8s.core.v1.ResourceRequirementsArgs(requests=amounts, limits=dict(amounts))


def hardened_container(
    *,
    name: str,
    image: pulumi.Input[str],
    resources: ResourcesSpec,
    gpus: int,
    extended_resources: Mapping[str, int] | None = None,
    ephemeral_gib: int | None = None,
    volumes: Sequence[Volume],
    command: Sequence[str],
    args: Sequence[str],
    env: Sequence[k8s.core.v1.EnvVarArgs],
    ports: Sequence[k8s.core.v1.ContainerPortArgs] = (),
    probes: Mapping[str, k8s.core.v1.ProbeArgs] | None = None,
    lifecycle: k8s.core.v1.LifecycleArgs | None = None,
) -> k8s.core.v1.ContainerArgs:
    """A workload container, main or init, hardened alike; ``probes`` maps startup / readiness / liveness to
    their probe, ``extended_resources`` are device-plugin resources besides GPUs (a fabric's
    interfaces), and ``ephemeral_gib`` the node disk its emptyDirs and logs need
    (``guaranteed_resources``)."""
    probes = probes or {}
    return k8s.core.v1.ContainerArgs(
        name=name,
        image=image,
        image_pull_policy="IfNotPresent",
        command=list(command),
        args=list(args),
        # A read-only root: anything that writes under $HOME (caches, torch's compile cache) writes to /tmp.
        env=[k8s.core.v1.EnvVarArgs(name="HOME", value=TMP_MOUNT), *env],
        ports=list(ports),
        resources=guaranteed_resources(resources, gpus, extended_resources, ephemeral_gib),
        security_context=container_security(),
        volume_mounts=[v.mount for v in volumes],
        startup_probe=probes.get("startup"),
        readiness_probe=probes.get("readiness"),
        liveness_probe=probes.get("liveness"),
        lifecycle=lifecycle,
        termination_message_policy="FallbackToLogsOnError",
    )


def hardened_pod_spec(
    *,
    container: k8s.core.v1.ContainerArgs,
    volumes: Sequence[Volume],
    service_account: pulumi.Input[str],
    placement: NodePlacement,
    termination_grace_period_seconds: int,
    restart_policy: str,
    subdomain: pulumi.Input[str] | None = None,
    topology_spread_constraints: Sequence[k8s.core.v1.TopologySpreadConstraintArgs] = (),
    init_containers: Sequence[k8s.core.v1.ContainerArgs] = (),
) -> k8s.core.v1.PodSpecArgs:
    """A pod on ``placement``'s pool: its labels selected, its taints tolerated, nothing else."""
    return k8s.core.v1.PodSpecArgs(
        init_containers=list(init_containers) or None,
        containers=[container],
        volumes=[v.volume for v in volumes],
        service_account_name=service_account,
        # No workload talks to the Kubernetes API; cloud identity webhooks project their own token.
        automount_service_account_token=False,
        enable_service_links=False,
        security_context=pod_security(),
        node_selector=dict(placement.node_selector),
        tolerations=[t.to_kubernetes() for t in placement.tolerations],
        termination_grace_period_seconds=termination_grace_period_seconds,
        restart_policy=restart_policy,
        subdomain=subdomain,
        topology_spread_constraints=list(topology_spread_constraints) or None,
    )
