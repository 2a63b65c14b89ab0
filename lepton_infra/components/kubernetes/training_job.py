"""TrainingJob: multi-node torchrun on plain Kubernetes, as an Indexed Job behind a headless Service.

Each of the job's ``nodes`` pods runs one torchrun agent. The pod of completion index 0
(``<job>-0.<service>``, stable DNS through the headless Service) hosts the c10d rendezvous; c10d hands out
node ranks in the order the agents join (torchrun ignores ``--node_rank`` unless the rendezvous is
static), so no rank is wired here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from lepton_infra.blueprint.workloads import TrainingWorkloadSpec
from lepton_infra.components.args import refuse_args
from lepton_infra.components.handle import ClusterHandle, NodePlacement
from lepton_infra.components.kubernetes.alerts import training_rules
from lepton_infra.components.kubernetes.checkpoints import checkpoint_claim
from lepton_infra.components.kubernetes.pod_builder import pod_builder
from lepton_infra.components.kubernetes.pod_security import memory_empty_dir
from lepton_infra.components.kubernetes.tenancy import (
    from_namespace,
    from_pods,
    https_egress,
    network_policy,
    tcp,
)
from lepton_infra.contract import (
    CHECKPOINT_DIR_ENV,
    NNODES_ENV,
    PREEMPTED_EXIT_CODE,
    PREEMPTED_EXIT_CODE_ENV,
    RENDEZVOUS_PORT,
    TORCHRUN_SHUTDOWN_TIMEOUT_ENV,
    TRAIN_METRICS_PORT,
)

COMPONENT = "trainer"
# Worker-group restarts torchrun does in place (after a peer is lost and replaced) before it gives up.
TORCHRUN_MAX_RESTARTS = 3
# What `pulumi up` waits for on the Job: that the Job controller has started it (seconds after creation), not
# that it completes, which a 100,000-step run never does within an update. pulumi-kubernetes otherwise awaits
# a Job's Complete condition for 10 minutes and again on every later update (registry docs of
# kubernetes.batch/v1.Job). Unlike `pulumi.com/skipAwait`, `pulumi.com/waitFor` keeps the wait on delete
# (pulumi-kubernetes await.go skips it for skipAwait'ed Jobs), so a replacement (a new image or new arguments:
# the pod template is immutable) creates the new Job only once the old one and its pods are gone; with
# skipAwait the create of the same name would meet the old Job still being deleted. `waitFor` takes
# precedence over the built-in await logic since pulumi-kubernetes 4.18.4 (pulumi/pulumi-kubernetes#3329).
AWAIT_STARTED = {"pulumi.com/waitFor": "jsonpath={.status.startTime}"}
# Time beyond the pods' grace period for the old Job's deletion to be observed during a replacement.
DELETE_MARGIN_SECONDS = 300
# Queued, the Job's start is Kueue's decision (hours away, perhaps): `pulumi up` waits only for the API server
# to hold it (its uid is set on creation), which keeps `waitFor`'s wait on delete for a replacement (above).
AWAIT_CREATED = {"pulumi.com/waitFor": "jsonpath={.metadata.uid}"}
# Of the pod's grace period, what torchrun keeps for itself after its workers are done.
SHUTDOWN_MARGIN_SECONDS = 15


@dataclass
class TrainingJobArgs:
    """The inputs of a TrainingJob."""

    handle: ClusterHandle
    """The site's cluster: its Kubernetes provider, GPU pools (where the pods land and what fabric they use),
    artifact bucket (checkpoints) and the binder that gives the job's ServiceAccount its cloud identity."""
    workload: TrainingWorkloadSpec
    """The training workload as the platform spec states it: image, nodes, GPUs per node, accelerator,
    checkpoint location, deadline and grace period (the defaults that protect a run are the spec's)."""
    queue_labels: Mapping[str, str] = field(default_factory=dict)
    """Kueue's queue-name and priority-class labels (``kueue.queue_labels``): Kueue creates the Job suspended
    and starts it when the team's quota admits it. Empty (the default): the job is not queued."""
    managed_by: str | None = None
    """A MultiKueue manager's copy: the controller named here (``spec.managedBy``) runs the Job, not the
    manager's own Job controller. None: the cluster's Job controller runs it."""
    create_job: bool = True
    """False on a MultiKueue worker: the Job arrives from the manager, so only what it needs here (its
    ServiceAccount, Service, NetworkPolicy, monitoring) is made."""

    def __post_init__(self) -> None:
        refuse_args(self)


def rendezvous_conf(workload: TrainingWorkloadSpec) -> str:
    """torchrun's ``--rdzv_conf``: how long the pods of a job wait for each other.

    ``join_timeout`` bounds the whole rendezvous (torch's default 600 s); ``read_timeout`` bounds every store
    operation and, through the TCPStore's timeout, how long an agent tries to connect to the store on pod 0
    (torch's default 60 s: a pod 0 that starts a minute late fails everyone else). Both take the spec's
    ``rendezvous_timeout_seconds`` (torch 2.13, c10d_rendezvous_backend.py and dynamic_rendezvous.py).
    """
    timeout = workload.rendezvous_timeout_seconds
    return f"join_timeout={timeout},read_timeout={timeout}"


def torchrun_args(workload: TrainingWorkloadSpec, service: str) -> list[str]:
    """torchrun's flags, then what it runs (our trainer, or the spec's ``args``); the kubelet expands
    ``$(VAR)`` from the container's env."""
    return [
        f"--nnodes=$({NNODES_ENV})",
        f"--nproc_per_node={workload.gpus_per_node}",
        "--rdzv_backend=c10d",
        f"--rdzv_endpoint={workload.name}-0.{service}:{RENDEZVOUS_PORT}",
        f"--rdzv_id={workload.name}",
        f"--rdzv_conf={rendezvous_conf(workload)}",
        f"--max_restarts={TORCHRUN_MAX_RESTARTS}",
        *training_program(workload),
    ]


def training_program(workload: TrainingWorkloadSpec) -> list[str]:
    """What torchrun starts on each GPU: the spec's own ``args``, or our trainer with its flags."""
    if workload.args is not None:
        return list(workload.args)
    return [
        "-m",
        "workloads.train",
        "--max-steps",
        str(workload.max_steps),
        "--checkpoint-dir",
        f"$({CHECKPOINT_DIR_ENV})",
        "--checkpoint-every",
        str(workload.checkpoint_every_steps),
        *workload.trainer_args,
    ]


def shutdown_timeout_seconds(workload: TrainingWorkloadSpec) -> int:
    """How long torchrun's agent lets its workers checkpoint after SIGTERM before it kills them.

    Stock torchrun gives them 30 s (torch 2.13, torch/distributed/run.py --shutdown-timeout, read from
    TORCH_ELASTIC_SHUTDOWN_TIMEOUT), far less than the pod's grace period for a final checkpoint; this
    gives them the grace period less a margin for torchrun's own exit. Our launcher does not let the agent
    handle SIGTERM at all; a user's image runs stock torchrun.
    """
    return max(workload.termination_grace_period_seconds - SHUTDOWN_MARGIN_SECONDS, 1)


def failure_policy(workload: TrainingWorkloadSpec) -> k8s.batch.v1.PodFailurePolicyArgs:
    """Preemption and node drains are retried for free; a failure that will repeat fails the job at once.

    Rules apply to failed pods only, first match wins. This is step 5 of the preemption flow in
    ``lepton_infra.contract``, which says why a preempted trainer exits ``PREEMPTED_EXIT_CODE`` and not 0.
    """
    return k8s.batch.v1.PodFailurePolicyArgs(
        rules=[
            # First: an evicted or preempted pod has DisruptionTarget; its exit code says nothing of the code.
            k8s.batch.v1.PodFailurePolicyRuleArgs(
                action="Ignore",
                on_pod_conditions=[
                    k8s.batch.v1.PodFailurePolicyOnPodConditionsPatternArgs(
                        type="DisruptionTarget", status="True"
                    )
                ],
            ),
            # Every node of the job stops and exits with this status along with the preempted one, though
            # only that one has DisruptionTarget (and a deleted pod's SIGTERM brings none): all checkpointed.
            k8s.batch.v1.PodFailurePolicyRuleArgs(
                action="Ignore",
                on_exit_codes=k8s.batch.v1.PodFailurePolicyOnExitCodesRequirementArgs(
                    container_name=COMPONENT, operator="In", values=[PREEMPTED_EXIT_CODE]
                ),
            ),
            k8s.batch.v1.PodFailurePolicyRuleArgs(
                action="FailJob",
                on_exit_codes=k8s.batch.v1.PodFailurePolicyOnExitCodesRequirementArgs(
                    container_name=COMPONENT, operator="In", values=list(workload.fail_fast_exit_codes)
                ),
            ),
        ]
    )


def fabric_resources(workload: TrainingWorkloadSpec, placement: NodePlacement) -> dict[str, int]:
    """The pool's fabric devices a pod of a multi-node job requests: its GPUs' share of the node's.

    A single-node job talks over NVLink and asks for none, so it never waits on a fabric's device plugin.
    """
    fabric = placement.fabric
    if fabric is None or workload.nodes < 2:
        return {}
    share = workload.gpus_per_node / placement.gpus_per_node
    return {name: math.ceil(count * share) for name, count in fabric.resources.items()}


def fabric_env(workload: TrainingWorkloadSpec, placement: NodePlacement) -> Mapping[str, str]:
    """What NCCL needs on the pool's fabric, for the pods of a multi-node job."""
    if placement.fabric is None or workload.nodes < 2:
        return {}
    return placement.fabric.env


class TrainingJob(pulumi.ComponentResource):
    """An Indexed Job (completions = parallelism = nodes) of hardened GPU pods, and what it needs around it.

    Creates the job's ServiceAccount (bound to a cloud identity through the handle), its headless Service,
    a NetworkPolicy letting its pods reach each other, Prometheus and HTTPS (checkpoints in a bucket), the
    checkpoint claim when the spec sizes one, and, with the Prometheus Operator, a ServiceMonitor and a
    no-progress alert. Defaults protect the user: a deadline, a grace period long enough for a final
    checkpoint, pods sized by their share of the pool's node, GPU requests equal to limits, rendezvous
    timeouts that outlast a scale-up and an image pull, and a failure policy that does not burn retries on
    preemption. On a pool with a fabric (EFA, InfiniBand) the pods of a multi-node job request its devices
    and get the environment NCCL needs there.

    The container runs our trainer unless the spec gives its own ``command`` (a torchrun launcher in the
    user's image) and ``args`` (the script and its arguments): the platform's part stays the same either way
    (torchrun's rendezvous flags, CHECKPOINT_DIR and the bucket's credentials through the workload identity,
    the preemption exit code and failure policy, torchrun's shutdown timeout sized to the grace period).

    How `pulumi up` treats it:

    - It waits only until the Job controller has started the Job (``pulumi.com/waitFor`` on
      ``.status.startTime``), never for the training to end.
    - The pod template is immutable: a new image, new arguments or a new size replaces the Job. The old one
      is deleted first; its pods get SIGTERM, checkpoint and go, then the new Job resumes from that
      checkpoint. To change a running job without restarting it, change nothing in its spec.
    - A finished Job stays until the workload leaves the stack. Given ``ttl_seconds_after_finished``, the
      Job controller deletes it after that long; a later ``pulumi refresh`` drops it from the state and
      the next ``pulumi up`` creates it again, which resumes from the last checkpoint, finds ``max_steps``
      reached and exits, after scaling up its nodes. Remove a finished workload from the stack instead.
    - Queued (under a team), it carries its queue and priority labels; Kueue's webhook creates it suspended
      and Kueue starts it when its team's quota admits it: `pulumi up` then waits only for the Job to
      exist (``.metadata.uid``), and never resets its ``spec.suspend``.
    """

    job: k8s.batch.v1.Job | None
    """The Indexed Job; None on a MultiKueue worker (``create_job`` False), where the Job arrives from the
    manager."""
    service: k8s.core.v1.Service
    """The headless Service that gives each pod a stable DNS name (``<job>-<index>.<service>``); index 0
    hosts torchrun's rendezvous."""

    def __init__(self, name: str, args: TrainingJobArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("lepton:kubernetes:TrainingJob", name, None, opts)
        handle, workload = args.handle, args.workload
        pods = pod_builder(
            name,
            parent=self,
            handle=handle,
            workload=workload,
            component=COMPONENT,
            read_only_checkpoint=False,
        )
        peers = pods.selector
        network_policy(
            f"{name}-netpol",
            workload.namespace,
            workload.name,
            peers,
            ingress=[
                # NCCL opens ports of its own choosing between ranks: peers may reach any port.
                k8s.networking.v1.NetworkPolicyIngressRuleArgs(from_=[from_pods(peers)]),
                k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                    from_=[from_namespace(handle.addons.monitoring_namespace)], ports=tcp(TRAIN_METRICS_PORT)
                ),
            ],
            egress=[k8s.networking.v1.NetworkPolicyEgressRuleArgs(to=[from_pods(peers)]), https_egress()],
            opts=pods.opts,
        )
        claim = checkpoint_claim(
            f"{name}-checkpoints", workload.checkpoint, workload.namespace, pods.labels, pods.opts
        )
        self.service = k8s.core.v1.Service(
            f"{name}-svc",
            metadata=pods.metadata(),
            spec=k8s.core.v1.ServiceSpecArgs(
                cluster_ip="None",
                # Ranks must find index 0 while everyone is still starting; no pod is "ready" before then.
                publish_not_ready_addresses=True,
                selector=peers,
                ports=[
                    k8s.core.v1.ServicePortArgs(
                        name="rendezvous", port=RENDEZVOUS_PORT, target_port="rendezvous"
                    ),
                    k8s.core.v1.ServicePortArgs(
                        name="metrics", port=TRAIN_METRICS_PORT, target_port="metrics"
                    ),
                ],
            ),
            opts=pods.opts,
        )
        # NCCL and data-loader workers share tensors through /dev/shm; the runtime's default is 64 MiB.
        shared_memory = workload.shared_memory(pods.resources.memory_mib)
        volumes = pods.volumes(memory_empty_dir("dshm", "/dev/shm", shared_memory))
        container = pods.container(
            volumes=volumes,
            command=list(workload.command or ("torchrun",)),
            args=torchrun_args(workload, workload.name),
            user_env=workload.env,
            env=[
                k8s.core.v1.EnvVarArgs(name=NNODES_ENV, value=str(workload.nodes)),
                k8s.core.v1.EnvVarArgs(name=PREEMPTED_EXIT_CODE_ENV, value=str(PREEMPTED_EXIT_CODE)),
                k8s.core.v1.EnvVarArgs(
                    name=TORCHRUN_SHUTDOWN_TIMEOUT_ENV, value=str(shutdown_timeout_seconds(workload))
                ),
                # In name order: facts read back through a stack reference do not keep a map's order, and
                # a Job's pod template cannot change without replacing the Job.
                *(
                    k8s.core.v1.EnvVarArgs(name=name, value=value)
                    for name, value in sorted(fabric_env(workload, pods.placement).items())
                ),
            ],
            extended_resources=fabric_resources(workload, pods.placement),
            ports=[
                k8s.core.v1.ContainerPortArgs(name="rendezvous", container_port=RENDEZVOUS_PORT),
                k8s.core.v1.ContainerPortArgs(name="metrics", container_port=TRAIN_METRICS_PORT),
            ],
        )
        if not args.create_job:
            self.job = None
            pods.monitor(name, port_name="metrics", rules=training_rules(workload))
            self.register_outputs({"service": self.service.metadata.name})
            return
        self.job = k8s.batch.v1.Job(
            f"{name}-job",
            metadata=pods.metadata(
                annotations=AWAIT_CREATED if args.queue_labels else AWAIT_STARTED,
                extra_labels=args.queue_labels,
            ),
            spec=k8s.batch.v1.JobSpecArgs(
                managed_by=args.managed_by,
                completion_mode="Indexed",
                completions=workload.nodes,
                parallelism=workload.nodes,
                backoff_limit=workload.backoff_limit,
                active_deadline_seconds=workload.max_runtime_seconds,
                ttl_seconds_after_finished=workload.ttl_seconds_after_finished,
                pod_failure_policy=failure_policy(workload),
                # A replacement starts only once the old pod is gone: never two pods of one rank at once.
                pod_replacement_policy="Failed",
                template=pods.pod_template(
                    container=container,
                    volumes=volumes,
                    metrics_port=TRAIN_METRICS_PORT,
                    # podFailurePolicy requires Never: the Job, not the kubelet, decides about retries.
                    restart_policy="Never",
                    subdomain=self.service.metadata.name,
                ),
            ),
            # A Job's pod template is immutable and its name fixed: a change replaces it, old one first, and
            # the deletion may take the pods' whole grace period (a final checkpoint) before it is observed.
            opts=pulumi.ResourceOptions.merge(
                pulumi.ResourceOptions.merge(
                    pods.opts,
                    pulumi.ResourceOptions(
                        delete_before_replace=True,
                        depends_on=[claim] if claim else [],
                        custom_timeouts=pulumi.CustomTimeouts(
                            delete=f"{workload.termination_grace_period_seconds + DELETE_MARGIN_SECONDS}s"
                        ),
                    ),
                ),
                _queued_options(args),
            ),
        )
        pods.monitor(name, port_name="metrics", rules=training_rules(workload))
        self.register_outputs({"job": self.job.metadata.name, "service": self.service.metadata.name})


def _queued_options(args: TrainingJobArgs) -> pulumi.ResourceOptions:
    """Pulumi must not fight Kueue: Kueue's webhook suspends a queued Job and Kueue resumes it on admission,
    so `spec.suspend` is never ours to reset (pulumi-kubernetes then leaves a field another manager owns out
    of its apply: pulumi/pulumi-kubernetes#2566). spec.managedBy is immutable: a change replaces the Job."""
    return pulumi.ResourceOptions(
        ignore_changes=["spec.suspend"] if args.queue_labels else None,
        replace_on_changes=["spec.managedBy"] if args.managed_by is not None else None,
    )
