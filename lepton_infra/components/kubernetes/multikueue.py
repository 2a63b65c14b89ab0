"""MultiKueue: the manager site holds `placement: any` training jobs and Kueue dispatches each to a worker.

On each worker: a ServiceAccount for the manager, bound to a ClusterRole with exactly what MultiKueue needs
for batch Jobs (Kueue's create-multikueue-kubeconfig.sh, v0.19.2, less the other frameworks), and a
long-lived token Secret for it (pulumi-kubernetes waits until the token controller has filled it in:
pulumi/pulumi-kubernetes#2048). On the manager: per worker, a kubeconfig built from that token (no exec
plugin the manager could not run, no file paths, TLS verified with the worker's CA: what Kueue accepts,
multikueuecluster.go validateKubeconfig) kept in a Secret and a Pulumi secret, a MultiKueueCluster pointing
at it; one MultiKueueConfig listing the workers, its AdmissionCheck, flavors for the dispatch queues made
from the workers' own pool placements, and each job itself, marked ``spec.managedBy`` so the manager's Job
controller leaves it to MultiKueue. Namespaces, LocalQueues, Services and ServiceAccounts the copied Job
needs are made on every worker by its own Kubernetes layer (``site_workloads.py``).
"""

from __future__ import annotations

import base64
import dataclasses
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import yaml

from lepton_infra.blueprint.platform import PlatformSpec
from lepton_infra.blueprint.queueing import MULTIKUEUE_CHECK, SiteQueues, site_queues
from lepton_infra.blueprint.workloads import TrainingWorkloadSpec
from lepton_infra.components.args import refuse_args
from lepton_infra.components.handle import ClusterHandle
from lepton_infra.components.kubernetes.cluster_services import custom_object
from lepton_infra.components.kubernetes.kueue import (
    KUEUE_API,
    KUEUE_NAMESPACE,
    MULTIKUEUE_CONTROLLER,
    MULTIKUEUE_MANAGED_BY,
    queue_labels,
)
from lepton_infra.components.kubernetes.labels import namespace_labels
from lepton_infra.components.kubernetes.queues import dispatch_flavor_name, resource_flavor
from lepton_infra.components.kubernetes.site_workloads import SiteWorkloads
from lepton_infra.components.kubernetes.training_job import TrainingJob, TrainingJobArgs
from lepton_infra.components.services import CustomObject

MANAGER_ACCOUNT = "multikueue-manager"
MULTIKUEUE_CONFIG = "lepton"
TOKEN_TYPE = "kubernetes.io/service-account-token"
SERVICE_ACCOUNT_NAME_ANNOTATION = "kubernetes.io/service-account.name"
# What MultiKueue does on a worker for batch Jobs: create, watch and delete the copied Job and its Workload.
MANAGER_RULES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("batch", ("jobs",), ("create", "delete", "get", "list", "watch")),
    ("batch", ("jobs/status",), ("get",)),
    ("kueue.x-k8s.io", ("workloads",), ("create", "delete", "get", "list", "watch", "update", "patch")),
    ("kueue.x-k8s.io", ("workloads/status",), ("get", "patch", "update")),
    ("kueue.x-k8s.io", ("clusterqueues", "localqueues"), ("get", "list", "watch")),
)


def worker_kubeconfig(cluster: str, server: str, ca_data: str, token: str) -> str:
    """A kubeconfig Kueue accepts for a worker: inline CA data, a bearer token, nothing to execute."""
    user = f"{cluster}-{MANAGER_ACCOUNT}"
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": cluster, "cluster": {"server": server, "certificate-authority-data": ca_data}}
            ],
            "users": [{"name": user, "user": {"token": token}}],
            "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": user}}],
            "current-context": cluster,
        },
        sort_keys=False,
    )


def _from_token_secret(cluster: str, server: str, data: Mapping[str, str] | None) -> str:
    """The kubeconfig from a token Secret's data (base64 values, as the API returns them)."""
    if not data or "token" not in data or "ca.crt" not in data:
        raise ValueError(
            f"the token Secret of {MANAGER_ACCOUNT} on {cluster} has no token yet; run `pulumi up` again"
        )
    return worker_kubeconfig(cluster, server, data["ca.crt"], base64.b64decode(data["token"]).decode())


@dataclass(frozen=True)
class MultiKueueWorker:
    """A worker cluster that a MultiKueue manager dispatches jobs to."""

    handle: ClusterHandle
    """The worker site's cluster: the manager's access to it is made there."""
    api_server_url: str
    """The URL of the worker's API server as the manager reaches it (``https://...``)."""
    kueue: pulumi.Resource
    """The worker's Kueue release: ``kueue-system`` exists once it does."""


@dataclass
class MultiKueueArgs:
    """The inputs of a MultiKueue."""

    manager: ClusterHandle
    """The manager site's cluster, where jobs are queued and from where Kueue dispatches them."""
    manager_queues: SiteQueues
    """The manager's queues, as the platform spec's queueing makes them: its dispatch queues count on the
    workers' pools."""
    manager_ready: Sequence[pulumi.Resource]
    """The manager's Kueue release, its namespaces and LocalQueues: the jobs wait for them."""
    workers: Sequence[MultiKueueWorker]
    """The clusters jobs are dispatched to."""
    jobs: Sequence[TrainingWorkloadSpec]
    """The training workloads created on the manager and run on a worker."""

    def __post_init__(self) -> None:
        refuse_args(self)


class MultiKueue(pulumi.ComponentResource):
    """Connects a manager site's Kueue to its workers and creates the dispatched jobs on the manager."""

    kubeconfigs: dict[str, pulumi.Output[str]]
    """By worker site: the kubeconfig (a secret) the manager's Kueue reaches that worker with: the bearer
    token of a ServiceAccount there that may only manage Jobs and Kueue workloads and read its queues."""

    def __init__(self, name: str, args: MultiKueueArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("lepton:kubernetes:MultiKueue", name, None, opts)
        manager = pulumi.ResourceOptions(parent=self, provider=args.manager.provider)
        after_kueue = pulumi.ResourceOptions.merge(
            manager, pulumi.ResourceOptions(depends_on=list(args.manager_ready))
        )
        self.kubeconfigs = {}
        clusters = []
        for worker in args.workers:
            site = worker.handle.site
            token = _manager_access(f"{name}-{site}", worker, self)
            kubeconfig: pulumi.Output[str] = pulumi.Output.secret(
                token.data.apply(functools.partial(_from_token_secret, site, worker.api_server_url))
            )
            self.kubeconfigs[site] = kubeconfig
            secret = k8s.core.v1.Secret(
                f"{name}-{site}-kubeconfig",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=f"{site}-multikueue", namespace=KUEUE_NAMESPACE, labels=namespace_labels(site)
                ),
                type="Opaque",
                string_data={"kubeconfig": kubeconfig},
                opts=after_kueue,
            )
            cluster = CustomObject(
                api_version=KUEUE_API,
                kind="MultiKueueCluster",
                name=site,
                spec={
                    "clusterSource": {
                        "kubeConfig": {"locationType": "Secret", "location": f"{site}-multikueue"}
                    }
                },
            )
            clusters.append(
                custom_object(
                    f"{name}-{site}-cluster",
                    cluster,
                    pulumi.ResourceOptions.merge(after_kueue, pulumi.ResourceOptions(depends_on=[secret])),
                )
            )
        for obj in _dispatch_objects(args):
            custom_object(f"{name}-{obj.kind.lower()}-{obj.name}", obj, after_kueue)
        template = _manager_template(args)
        for job in args.jobs:
            TrainingJob(
                f"{args.manager.site}-{job.name}",
                TrainingJobArgs(
                    template, job, queue_labels=queue_labels(job), managed_by=MULTIKUEUE_MANAGED_BY
                ),
                pulumi.ResourceOptions(parent=self, depends_on=[*args.manager_ready, *clusters]),
            )
        self.register_outputs({"workers": [w.handle.site for w in args.workers]})


def _manager_access(name: str, worker: MultiKueueWorker, parent: pulumi.Resource) -> k8s.core.v1.Secret:
    """On the worker: the manager's ServiceAccount, its ClusterRole and binding, and its token Secret."""
    opts = pulumi.ResourceOptions(parent=parent, provider=worker.handle.provider, depends_on=[worker.kueue])
    labels = namespace_labels(MANAGER_ACCOUNT)
    account = k8s.core.v1.ServiceAccount(
        f"{name}-sa",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=MANAGER_ACCOUNT, namespace=KUEUE_NAMESPACE, labels=labels),
        automount_service_account_token=False,
        opts=opts,
    )
    role = k8s.rbac.v1.ClusterRole(
        f"{name}-role",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=MANAGER_ACCOUNT, labels=labels),
        rules=[
            k8s.rbac.v1.PolicyRuleArgs(api_groups=[group], resources=list(resources), verbs=list(verbs))
            for group, resources, verbs in MANAGER_RULES
        ],
        opts=opts,
    )
    k8s.rbac.v1.ClusterRoleBinding(
        f"{name}-binding",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=MANAGER_ACCOUNT, labels=labels),
        role_ref=k8s.rbac.v1.RoleRefArgs(
            api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=role.metadata.name
        ),
        subjects=[
            k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=MANAGER_ACCOUNT, namespace=KUEUE_NAMESPACE)
        ],
        opts=opts,
    )
    return k8s.core.v1.Secret(
        f"{name}-token",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=f"{MANAGER_ACCOUNT}-token",
            namespace=KUEUE_NAMESPACE,
            labels=labels,
            annotations={SERVICE_ACCOUNT_NAME_ANNOTATION: MANAGER_ACCOUNT},
        ),
        type=TOKEN_TYPE,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[account])),
    )


def _dispatch_objects(args: MultiKueueArgs) -> list[CustomObject]:
    """The MultiKueueConfig, its AdmissionCheck, and a flavor per pool the dispatch queues count on, with
    the labels and taints of that pool on the first worker (the spec made them the same on every one)."""
    workers = [w.handle.site for w in args.workers]
    pools = {q.pool for team in args.manager_queues.dispatch for q in team.quotas}
    placements = {p.pool: p for p in args.workers[0].handle.gpu_pools}
    objects = [
        CustomObject(
            api_version=KUEUE_API, kind="MultiKueueConfig", name=MULTIKUEUE_CONFIG, spec={"clusters": workers}
        ),
        CustomObject(
            api_version=KUEUE_API,
            kind="AdmissionCheck",
            name=MULTIKUEUE_CHECK,
            spec={
                "controllerName": MULTIKUEUE_CONTROLLER,
                "parameters": {
                    "apiGroup": "kueue.x-k8s.io",
                    "kind": "MultiKueueConfig",
                    "name": MULTIKUEUE_CONFIG,
                },
            },
        ),
    ]
    objects += [
        resource_flavor(placements[pool], args.manager.site, None, name=dispatch_flavor_name(pool))
        for pool in sorted(pools)
    ]
    return objects


def _manager_template(args: MultiKueueArgs) -> ClusterHandle:
    """The handle the manager's copy is written through: the workers' pool, registry and bucket (shared,
    by the spec's rules), on the manager's cluster with its add-ons."""
    manager = args.manager
    return dataclasses.replace(
        args.workers[0].handle,
        site=manager.site,
        provider=manager.provider,
        kubeconfig=manager.kubeconfig,
        parent=manager.parent,
        addons=manager.addons,
    )


def connect_sites(
    spec: PlatformSpec,
    handles: Mapping[str, ClusterHandle],
    layers: Mapping[str, SiteWorkloads],
    opts: pulumi.ResourceOptions | None = None,
) -> MultiKueue | None:
    """The platform's MultiKueue, once every site's Kubernetes layer exists; None without one."""
    multikueue = spec.queueing.multikueue
    queues = site_queues(spec, multikueue.manager) if multikueue is not None else None
    if multikueue is None or queues is None:
        return None
    manager = layers[multikueue.manager]
    jobs = [w for w in spec.workloads if isinstance(w, TrainingWorkloadSpec) and w.placement == "any"]
    ready = [*manager.local_queues.values(), *(manager.namespaces[j.namespace] for j in jobs)]
    workers = []
    for worker in multikueue.workers:
        kueue = layers[worker.site].kueue
        assert kueue is not None, f"worker {worker.site} queues nothing"  # the spec's rules make it queue
        workers.append(MultiKueueWorker(handles[worker.site], worker.api_server_url, kueue))
    args = MultiKueueArgs(
        manager=handles[multikueue.manager],
        manager_queues=queues,
        manager_ready=[r for r in (manager.kueue, *ready) if r is not None],
        workers=workers,
        jobs=jobs,
    )
    return MultiKueue(f"{spec.name}-multikueue", args, opts)
