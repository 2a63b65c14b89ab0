"""InferenceService: the model server as a Deployment behind a ClusterIP Service, autoscaled, drain-safe."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from lepton_infra.blueprint.demand import ROLLOUT_SURGE_REPLICAS
from lepton_infra.blueprint.workloads import CpuAutoscalingSpec, InferenceWorkloadSpec
from lepton_infra.components.args import refuse_args
from lepton_infra.components.handle import ClusterHandle
from lepton_infra.components.kubernetes.alerts import serving_rules
from lepton_infra.components.kubernetes.pod_builder import pod_builder
from lepton_infra.components.kubernetes.servers import EXIT_MARGIN_SECONDS, server_plan
from lepton_infra.components.kubernetes.tenancy import (
    from_namespace,
    from_pods,
    https_egress,
    network_policy,
    tcp,
)
from lepton_infra.contract import HEALTH_PATH, READY_PATH
from lepton_infra.engines import adapter_metric_name

COMPONENT = "server"
SERVICE_PORT = 80
# Extra replicas a rollout may add; the namespace and team quotas leave room for them.
MAX_SURGE = ROLLOUT_SURGE_REPLICAS
PROBE_PERIOD_SECONDS = 10
# Long enough for endpoint removal to reach every proxy before the server stops accepting connections.
PRE_STOP_SLEEP_SECONDS = 5
SCALE_DOWN_WINDOW_SECONDS = 300
# `pulumi up` does not wait for the rollout: replicas stay not-ready until training has written a first
# checkpoint, and pulumi-kubernetes would otherwise await the Deployment's Available condition for 10 minutes
# and fail the update (registry docs of kubernetes.apps/v1.Deployment).
SKIP_AWAIT = {"pulumi.com/skipAwait": "true"}
ZONE_LABEL = "topology.kubernetes.io/zone"
HOST_LABEL = "kubernetes.io/hostname"


@dataclass
class InferenceServiceArgs:
    """The inputs of an InferenceService."""

    handle: ClusterHandle
    """The site's cluster: its Kubernetes provider, GPU pools (where the replicas land), artifact bucket (the
    model) and the binder that gives the service's ServiceAccount its cloud identity."""
    workload: InferenceWorkloadSpec
    """The inference workload as the platform spec states it: server, model, replicas and their autoscaling
    range, accelerator and exposure (the defaults that protect a service are the spec's)."""
    queue_labels: Mapping[str, str] = field(default_factory=dict)
    """Kueue's queue-name and priority-class labels: Kueue admits each replica under the team's quota. Empty
    (the default): the replicas are not queued."""

    def __post_init__(self) -> None:
        refuse_args(self)


def probes(
    workload: InferenceWorkloadSpec, health_path: str = HEALTH_PATH, ready_path: str = READY_PATH
) -> dict[str, k8s.core.v1.ProbeArgs]:
    """Startup gives the model time to load; after that, readiness gates traffic and liveness restarts."""

    def http(path: str, period: int, failures: int) -> k8s.core.v1.ProbeArgs:
        return k8s.core.v1.ProbeArgs(
            http_get=k8s.core.v1.HTTPGetActionArgs(path=path, port="http"),
            period_seconds=period,
            timeout_seconds=5,
            failure_threshold=failures,
        )

    return {
        "startup": http(
            health_path,
            PROBE_PERIOD_SECONDS,
            math.ceil(workload.startup_timeout_seconds / PROBE_PERIOD_SECONDS),
        ),
        "readiness": http(ready_path, 5, 2),
        "liveness": http(health_path, PROBE_PERIOD_SECONDS, 3),
    }


def drain_seconds(workload: InferenceWorkloadSpec) -> int:
    """How long in-flight requests may run on after SIGTERM: the grace period, less the preStop sleep that
    comes first and a margin for the process to exit."""
    return max(workload.termination_grace_period_seconds - PRE_STOP_SLEEP_SECONDS - EXIT_MARGIN_SECONDS, 1)


def spread(selector: dict[str, str]) -> list[k8s.core.v1.TopologySpreadConstraintArgs]:
    """Spread replicas over zones, then hosts; soft, since a GPU pool may live in one zone only."""
    return [
        k8s.core.v1.TopologySpreadConstraintArgs(
            max_skew=1,
            topology_key=key,
            when_unsatisfiable="ScheduleAnyway",
            label_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
            # Count only the pods of the current rollout, not the ones about to leave.
            match_label_keys=["pod-template-hash"],
        )
        for key in (ZONE_LABEL, HOST_LABEL)
    ]


def hpa_metric(workload: InferenceWorkloadSpec) -> k8s.autoscaling.v2.MetricSpecArgs:
    scaling = workload.autoscaling
    if isinstance(scaling, CpuAutoscalingSpec):
        return k8s.autoscaling.v2.MetricSpecArgs(
            type="Resource",
            resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(
                name="cpu",
                target=k8s.autoscaling.v2.MetricTargetArgs(
                    type="Utilization", average_utilization=scaling.target_utilization_percent
                ),
            ),
        )
    return k8s.autoscaling.v2.MetricSpecArgs(
        type="Pods",
        pods=k8s.autoscaling.v2.PodsMetricSourceArgs(
            # The name prometheus-adapter serves the series under (metrics_adapter.py's rule).
            metric=k8s.autoscaling.v2.MetricIdentifierArgs(name=adapter_metric_name(scaling.metric_name)),
            target=k8s.autoscaling.v2.MetricTargetArgs(
                type="AverageValue", average_value=f"{scaling.target_average_value:g}"
            ),
        ),
    )


class InferenceService(pulumi.ComponentResource):
    """A Deployment of hardened GPU replicas, a ClusterIP Service, an HPA and a PodDisruptionBudget.

    Rolling updates never drop below the current replica count (maxUnavailable 0), replicas spread across
    zones, probes hold traffic until the model is loaded, SIGTERM gets a drain window, and the PDB keeps node
    drains from taking more than one replica at a time. Exposure outside the cluster only through an explicit
    Ingress (TLS). The ServiceAccount is bound to a cloud identity through the handle; a NetworkPolicy admits
    clients of the namespace, the ingress controller and Prometheus. With the Prometheus Operator it adds a
    ServiceMonitor and latency / error-rate alerts; otherwise pods carry scrape annotations. Replicas the spec
    does not size get their per-GPU share of the pool's node.

    The server is ours, vLLM or the user's own (``servers.py``); each gets its own command, probe paths,
    metrics and alerts, and the same pod: a server that reads the model from local disk gets it staged by
    an init container under the workload's identity into an emptyDir, and whatever an engine must write (a
    compile cache, shared memory) is an emptyDir too, never a privilege.

    `pulumi up` does not wait for the replicas (``pulumi.com/skipAwait``): they report not-ready until a first
    checkpoint exists, which on a new platform is long after the update. So a successful update says the
    Deployment was accepted, not that it serves: watch ``kubectl rollout status`` or the readiness alerts.
    The annotation also makes deletion return at once; the Deployment is only replaced (deleted and made
    again under its name) when its selector changes, which the platform never does.
    """

    deployment: k8s.apps.v1.Deployment
    """The Deployment of the server's replicas."""
    service: k8s.core.v1.Service
    """The ClusterIP Service in front of the replicas: clients of the namespace (and an Ingress, where the
    spec exposes one) reach the server through it."""

    def __init__(
        self, name: str, args: InferenceServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("lepton:kubernetes:InferenceService", name, None, opts)
        handle, workload = args.handle, args.workload
        pods = pod_builder(
            name,
            parent=self,
            handle=handle,
            workload=workload,
            component=COMPONENT,
            read_only_checkpoint=True,
        )
        selector, child = pods.selector, pods.opts
        clients = [from_pods({}), from_namespace(handle.addons.monitoring_namespace)]
        if workload.ingress is not None:
            clients.append(from_namespace(workload.ingress.controller_namespace))
        network_policy(
            f"{name}-netpol",
            workload.namespace,
            workload.name,
            selector,
            ingress=[k8s.networking.v1.NetworkPolicyIngressRuleArgs(from_=clients, ports=tcp(workload.port))],
            egress=[https_egress()],  # the model's checkpoint in the bucket
            opts=child,
        )
        plan = server_plan(workload, pods, drain_seconds(workload))
        volumes = pods.volumes(*plan.volumes)
        container = pods.container(
            volumes=volumes,
            command=plan.command,
            args=plan.args,
            env=plan.env,
            user_env=plan.user_env,
            ports=[k8s.core.v1.ContainerPortArgs(name="http", container_port=workload.port)],
            probes=probes(workload, plan.health_path, plan.ready_path),
            lifecycle=k8s.core.v1.LifecycleArgs(
                pre_stop=k8s.core.v1.LifecycleHandlerArgs(
                    sleep=k8s.core.v1.SleepActionArgs(seconds=PRE_STOP_SLEEP_SECONDS)
                )
            ),
        )
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deploy",
            # Kueue's webhook copies the queue labels into the pod template and gates each new pod on them.
            metadata=pods.metadata(annotations=SKIP_AWAIT, extra_labels=args.queue_labels),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=workload.min_replicas,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
                strategy=k8s.apps.v1.DeploymentStrategyArgs(
                    type="RollingUpdate",
                    rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(
                        max_unavailable=0, max_surge=MAX_SURGE
                    ),
                ),
                revision_history_limit=5,
                template=pods.pod_template(
                    container=container,
                    volumes=volumes,
                    metrics_port=workload.port,
                    metrics_path=plan.metrics_path,
                    restart_policy="Always",
                    topology_spread_constraints=spread(selector),
                    init_containers=plan.init_containers,
                ),
            ),
            # The HPA owns the replica count after creation; a later `pulumi up` must not reset it.
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(ignore_changes=["spec.replicas"])
            ),
        )
        self.service = k8s.core.v1.Service(
            f"{name}-svc",
            metadata=pods.metadata(),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="ClusterIP",
                selector=selector,
                ports=[k8s.core.v1.ServicePortArgs(name="http", port=SERVICE_PORT, target_port="http")],
            ),
            opts=child,
        )
        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{name}-hpa",
            metadata=pods.metadata(),
            spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
                scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
                    api_version="apps/v1", kind="Deployment", name=self.deployment.metadata.name
                ),
                min_replicas=workload.min_replicas,
                max_replicas=workload.max_replicas,
                metrics=[hpa_metric(workload)],
                # GPU replicas are slow to start and costly to churn: scale down one at a time, after calm.
                behavior=k8s.autoscaling.v2.HorizontalPodAutoscalerBehaviorArgs(
                    scale_down=k8s.autoscaling.v2.HPAScalingRulesArgs(
                        stabilization_window_seconds=SCALE_DOWN_WINDOW_SECONDS,
                        policies=[
                            k8s.autoscaling.v2.HPAScalingPolicyArgs(type="Pods", value=1, period_seconds=60)
                        ],
                    )
                ),
            ),
            opts=child,
        )
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata=pods.metadata(),
            spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                max_unavailable=1,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
                # A crash-looping replica must not block node drains forever.
                unhealthy_pod_eviction_policy="AlwaysAllow",
            ),
            opts=child,
        )
        if workload.ingress is not None:
            ingress = workload.ingress
            k8s.networking.v1.Ingress(
                f"{name}-ingress",
                metadata=pods.metadata(),
                spec=k8s.networking.v1.IngressSpecArgs(
                    ingress_class_name=ingress.ingress_class_name,
                    tls=[
                        k8s.networking.v1.IngressTLSArgs(
                            hosts=[ingress.host], secret_name=ingress.tls_secret_name
                        )
                    ],
                    rules=[
                        k8s.networking.v1.IngressRuleArgs(
                            host=ingress.host,
                            http=k8s.networking.v1.HTTPIngressRuleValueArgs(
                                paths=[
                                    k8s.networking.v1.HTTPIngressPathArgs(
                                        path="/",
                                        path_type="Prefix",
                                        backend=k8s.networking.v1.IngressBackendArgs(
                                            service=k8s.networking.v1.IngressServiceBackendArgs(
                                                name=self.service.metadata.name,
                                                port=k8s.networking.v1.ServiceBackendPortArgs(name="http"),
                                            )
                                        ),
                                    )
                                ]
                            ),
                        )
                    ],
                ),
                opts=child,
            )
        rules = serving_rules(workload, plan.metrics) if plan.metrics is not None else []
        pods.monitor(name, port_name="http", rules=rules, path=plan.metrics_path)
        self.register_outputs(
            {"deployment": self.deployment.metadata.name, "service": self.service.metadata.name}
        )
