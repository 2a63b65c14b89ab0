"""PodBuilder: what a training job and an inference service build alike (identity, placement, pod, alerts)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from lepton_infra.blueprint.names import ImageSpec
from lepton_infra.blueprint.workloads import InferenceWorkloadSpec, ResourcesSpec, TrainingWorkloadSpec
from lepton_infra.catalog.node_disk import SERVER_TMP_GIB
from lepton_infra.components.handle import ClusterHandle, NodePlacement, ServiceAccountBinding
from lepton_infra.components.kubernetes.checkpoints import CheckpointLocation, checkpoint_location
from lepton_infra.components.kubernetes.labels import selector_labels, workload_labels
from lepton_infra.components.kubernetes.monitoring import AlertRule, monitor_workload, scrape_annotations
from lepton_infra.components.kubernetes.pod_security import (
    TMP_MOUNT,
    Volume,
    disk_empty_dir,
    ephemeral_gib,
    hardened_container,
    hardened_pod_spec,
)
from lepton_infra.components.kubernetes.tenancy import workload_account, workload_service_account
from lepton_infra.contract import METRICS_PATH


@dataclass(frozen=True)
class PodBuilder:
    handle: ClusterHandle
    workload: TrainingWorkloadSpec | InferenceWorkloadSpec
    component: str
    gpus: int
    labels: dict[str, str]
    selector: dict[str, str]
    placement: NodePlacement
    # CPU and memory of the main container: the spec's, or the pod's per-GPU share of the pool's node.
    resources: ResourcesSpec
    account: k8s.core.v1.ServiceAccount
    binding: ServiceAccountBinding
    checkpoint: CheckpointLocation
    # Children of the component, through the site's Kubernetes provider.
    opts: pulumi.ResourceOptions

    def metadata(
        self,
        name: str | None = None,
        annotations: Mapping[str, str] | None = None,
        *,
        extra_labels: Mapping[str, str] | None = None,
    ) -> k8s.meta.v1.ObjectMetaArgs:
        """Metadata of one of the workload's objects, named after the workload unless told otherwise."""
        return k8s.meta.v1.ObjectMetaArgs(
            name=name or self.workload.name,
            namespace=self.workload.namespace,
            labels={**self.labels, **(extra_labels or {})},
            annotations=dict(annotations) if annotations else None,
        )

    @property
    def tmp_gib(self) -> int:
        """The pod's /tmp: a training pod's is sized by its spec, since checkpoints bound for a bucket pass
        through it whole (workloads/checkpoint/storage.py); a server's holds caches only."""
        return (
            self.workload.scratch_disk_gib
            if isinstance(self.workload, TrainingWorkloadSpec)
            else SERVER_TMP_GIB
        )

    def volumes(self, *extra: Volume) -> list[Volume]:
        """``extra``, a writable /tmp (the root filesystem is read-only), and the checkpoint volume if any."""
        return [*extra, disk_empty_dir("tmp", TMP_MOUNT, self.tmp_gib), *self.checkpoint.volumes]

    def container(
        self,
        *,
        volumes: Sequence[Volume],
        command: Sequence[str],
        args: Sequence[str],
        env: Sequence[k8s.core.v1.EnvVarArgs],
        ports: Sequence[k8s.core.v1.ContainerPortArgs],
        probes: Mapping[str, k8s.core.v1.ProbeArgs] | None = None,
        lifecycle: k8s.core.v1.LifecycleArgs | None = None,
        extended_resources: Mapping[str, int] | None = None,
        user_env: Mapping[str, str] | None = None,
    ) -> k8s.core.v1.ContainerArgs:
        """The main container: the site's image of the workload, ``CHECKPOINT_DIR`` set, unbuffered logs;
        ``user_env`` (the spec's own variables) last, refused where it would replace one of the platform's.

        ``volumes`` are every volume of the pod, so its ``ephemeral-storage`` request covers all of the
        pod's disk-backed emptyDirs, the ones an init container fills included. The scheduler takes the
        higher of the app containers' sum and the highest init container request as the pod's
        (https://kubernetes.io/docs/concepts/workloads/pods/init-containers/
        #resource-sharing-within-containers), and the kubelet evicts a pod whose emptyDirs, logs and
        writable layers together pass "the total limit of containers" (its message, as in
        substratusai/runbooks#246), so the figure must sit on the container that runs all along."""
        return hardened_container(
            name=self.component,
            image=self.handle.registry.apply(self.workload.image.reference),
            resources=self.resources,
            gpus=self.gpus,
            extended_resources=extended_resources,
            ephemeral_gib=ephemeral_gib(volumes),
            volumes=volumes,
            command=command,
            args=args,
            env=self._with_user_env(self.platform_env(env), user_env or {}),
            ports=ports,
            probes=probes,
            lifecycle=lifecycle,
        )

    def platform_env(self, env: Sequence[k8s.core.v1.EnvVarArgs] = ()) -> list[k8s.core.v1.EnvVarArgs]:
        """``env``, the checkpoint location and what reaching it needs, and unbuffered Python logs."""
        return [*env, *self.checkpoint.env(), k8s.core.v1.EnvVarArgs(name="PYTHONUNBUFFERED", value="1")]

    def init_container(
        self,
        *,
        name: str,
        image: ImageSpec,
        volumes: Sequence[Volume],
        command: Sequence[str],
        args: Sequence[str],
        env: Sequence[k8s.core.v1.EnvVarArgs],
    ) -> k8s.core.v1.ContainerArgs:
        """A container that runs to completion before the main one, hardened alike, with the main
        container's CPU and memory and the disk of the emptyDirs it mounts (a pod's request is the larger
        of its init and main containers', and the main container's covers every emptyDir of the pod, so
        this costs nothing) and no GPU; it runs under the pod's ServiceAccount, so the workload identity."""
        return hardened_container(
            name=name,
            image=self.handle.registry.apply(image.reference),
            resources=self.resources,
            gpus=0,
            ephemeral_gib=ephemeral_gib(volumes),
            volumes=volumes,
            command=command,
            args=args,
            env=env,
        )

    def _with_user_env(
        self, platform: list[k8s.core.v1.EnvVarArgs], user_env: Mapping[str, str]
    ) -> list[k8s.core.v1.EnvVarArgs]:
        taken = {"HOME", *(str(e.name) for e in platform)}
        clash = sorted(taken & set(user_env))
        if clash:
            raise ValueError(
                f"workload {self.workload.name!r}: `env` sets {', '.join(clash)}, which the platform sets on "
                "this site (the checkpoint location and what reaching it needs); remove it"
            )
        return [*platform, *(k8s.core.v1.EnvVarArgs(name=n, value=v) for n, v in sorted(user_env.items()))]

    def pod_template(
        self,
        *,
        container: k8s.core.v1.ContainerArgs,
        volumes: Sequence[Volume],
        metrics_port: int,
        restart_policy: str,
        subdomain: pulumi.Input[str] | None = None,
        topology_spread_constraints: Sequence[k8s.core.v1.TopologySpreadConstraintArgs] = (),
        init_containers: Sequence[k8s.core.v1.ContainerArgs] = (),
        metrics_path: str = METRICS_PATH,
    ) -> k8s.core.v1.PodTemplateSpecArgs:
        monitored_by_operator = self.handle.addons.prometheus_operator
        return k8s.core.v1.PodTemplateSpecArgs(
            metadata=k8s.meta.v1.ObjectMetaArgs(
                labels={**self.labels, **self.binding.pod_labels},
                annotations=None if monitored_by_operator else scrape_annotations(metrics_port, metrics_path),
            ),
            spec=hardened_pod_spec(
                container=container,
                volumes=volumes,
                service_account=self.account.metadata.name,
                placement=self.placement,
                termination_grace_period_seconds=self.workload.termination_grace_period_seconds,
                restart_policy=restart_policy,
                subdomain=subdomain,
                topology_spread_constraints=topology_spread_constraints,
                init_containers=init_containers,
            ),
        )

    def monitor(
        self, resource_name: str, *, port_name: str, rules: Sequence[AlertRule], path: str = METRICS_PATH
    ) -> None:
        """A ServiceMonitor and the workload's alerts, where the Prometheus Operator runs."""
        if self.handle.addons.prometheus_operator:
            monitor_workload(
                resource_name,
                namespace=self.workload.namespace,
                workload=self.workload.name,
                port_name=port_name,
                selector=self.selector,
                labels=self.labels,
                rules=rules,
                opts=self.opts,
                path=path,
            )


def pod_builder(
    name: str,
    *,
    parent: pulumi.Resource,
    handle: ClusterHandle,
    workload: TrainingWorkloadSpec | InferenceWorkloadSpec,
    component: str,
    read_only_checkpoint: bool,
) -> PodBuilder:
    """Labels, the pool to run on, the pods' size, and the workload's own ServiceAccount, bound through the
    handle. Pods the spec does not size get their per-GPU share of the pool's node (``NodePlacement.room``),
    so the same workload may get different sizes on different sites."""
    opts = pulumi.ResourceOptions(parent=parent, provider=handle.provider)
    labels = workload_labels(workload.name, component)
    gpus = workload.gpus_needed_per_node
    placement = handle.placement(workload.accelerator.value, gpus)
    namespace, account_name = workload_account(workload)
    account, binding = workload_service_account(
        f"{name}-sa",
        handle=handle,
        namespace=namespace,
        name=account_name,
        labels=labels,
        opts=opts,
    )
    return PodBuilder(
        handle=handle,
        workload=workload,
        component=component,
        gpus=gpus,
        labels=labels,
        selector=selector_labels(workload.name, component),
        placement=placement,
        resources=workload.pod_resources(placement.room, placement.gpus_per_node),
        account=account,
        binding=binding,
        checkpoint=checkpoint_location(workload.checkpoint, workload.name, handle, read_only_checkpoint),
        opts=opts,
    )
