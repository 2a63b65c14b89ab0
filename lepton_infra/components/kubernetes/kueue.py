"""Kueue itself: the pinned chart, the manager's configuration, and the labels a workload carries to queue.

The configuration is what protects the platform: Kueue manages every Job and pod of the team namespaces
(nothing there starts without admission), a job is started all or nothing (``waitForPodsReady``: one
whose pods are not all running in time is evicted and requeued, so no half-started job holds GPUs while
nodes scale), and only GPUs are counted against quotas (``IgnoreUndeclared``: CPU and memory are the
namespace ResourceQuota's business). Sources: kueue v0.19.2 charts/kueue/values.yaml and
apis/config/v1beta2/configuration_types.go (v1beta2 has no ``waitForPodsReady.enable``: the block's
presence turns it on).
"""

from __future__ import annotations

from typing import Any

import yaml

from lepton_infra.blueprint.queueing import SiteQueues, local_queue_name, priority_class_name
from lepton_infra.blueprint.workloads import TrainingWorkloadSpec, WorkloadSpec
from lepton_infra.components.kubernetes.tenancy import NAMESPACE_NAME_LABEL
from lepton_infra.components.services import ClusterService, CustomObject, HelmChart

KUEUE_VERSION = "0.19.2"
KUEUE_REPOSITORY = "oci://registry.k8s.io/kueue/charts"
# The release image the published chart names (hack/helm-chart-package.sh; release IMAGE_REGISTRY),
# pinned here too so the source chart's staging default (a moving `release-0.19` tag) can never apply.
KUEUE_IMAGE = "registry.k8s.io/kueue/kueue"
KUEUE_NAMESPACE = "kueue-system"
KUEUE_SERVICE = "kueue"
KUEUE_API = "kueue.x-k8s.io/v1beta2"
QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
PRIORITY_CLASS_LABEL = "kueue.x-k8s.io/priority-class"
# The value a manager-side Job carries so its own Job controller leaves it to MultiKueue (KEP-4368), and
# the controller name of MultiKueue's AdmissionCheck (Kueue docs, tasks/manage/setup_multikueue).
MULTIKUEUE_MANAGED_BY = "kueue.x-k8s.io/multikueue"
MULTIKUEUE_CONTROLLER = "kueue.x-k8s.io/multikueue"
# Frameworks we hand Kueue: TrainingJobs are batch Jobs, InferenceServices Deployments (each pod admitted
# alone; `pod` is implied since v0.15, docs tasks/run/deployment). Without `pod` listed the chart registers
# its pod webhook with failurePolicy Ignore (templates/webhook/manifests.yaml): a replica created while
# Kueue is down starts unqueued rather than not at all.
FRAMEWORKS = ("batch/job", "deployment")
REQUEUE_BACKOFF_BASE_SECONDS = 60
REQUEUE_BACKOFF_MAX_SECONDS = 3600


def manager_configuration(queues: SiteQueues) -> dict[str, Any]:
    """Kueue's v1beta2 Configuration for a site: the chart's own defaults for ports and leader election
    (its templates point Services and probes at them), plus our admission settings."""
    timeout = f"{queues.pods_ready_timeout_minutes}m"
    return {
        "apiVersion": "config.kueue.x-k8s.io/v1beta2",
        "kind": "Configuration",
        "health": {"healthProbeBindAddress": ":8081"},
        "metrics": {"bindAddress": ":8443"},
        "webhook": {"port": 9443},
        "leaderElection": {"leaderElect": True, "resourceName": "c1f6bfd2.kueue.x-k8s.io"},
        "clientConnection": {"qps": 300, "burst": 500},
        # Every Job and pod of a team namespace goes through a queue; a Job without a queue name waits.
        "manageJobsWithoutQueueName": True,
        "managedJobsNamespaceSelector": {
            "matchExpressions": [
                {"key": NAMESPACE_NAME_LABEL, "operator": "In", "values": list(queues.namespaces)}
            ]
        },
        "waitForPodsReady": {
            "timeout": timeout,
            "recoveryTimeout": timeout,
            # Not blocking: inference pods must keep being admitted while a big job waits for its nodes.
            "blockAdmission": False,
            "requeuingStrategy": {
                "timestamp": "Eviction",
                "backoffBaseSeconds": REQUEUE_BACKOFF_BASE_SECONDS,
                "backoffMaxSeconds": REQUEUE_BACKOFF_MAX_SECONDS,
            },
        },
        "integrations": {"frameworks": list(FRAMEWORKS)},
        "resources": {"quotaCheckStrategy": "IgnoreUndeclared"},
    }


def kueue_chart(queues: SiteQueues) -> HelmChart:
    return HelmChart(
        chart="kueue",
        version=KUEUE_VERSION,
        repository=KUEUE_REPOSITORY,
        values={
            "controllerManager": {
                "manager": {
                    "image": {
                        "repository": KUEUE_IMAGE,
                        "tag": f"v{KUEUE_VERSION}",
                        "pullPolicy": "IfNotPresent",
                    }
                },
                # Its webhooks admit every Job and Deployment pod of the team namespaces (failurePolicy Fail):
                # two replicas and a PDB keep a node drain from stopping inference scale-out.
                "replicas": 2,
                "podDisruptionBudget": {"enabled": True, "minAvailable": 1},
            },
            "managerConfig": {"controllerManagerConfigYaml": yaml.safe_dump(manager_configuration(queues))},
        },
    )


def kueue_service(queues: SiteQueues, objects: tuple[CustomObject, ...]) -> ClusterService:
    """Kueue's release in kueue-system, then its cluster-scoped objects (flavors, queues, priorities)."""
    return ClusterService(
        name=KUEUE_SERVICE,
        namespace=KUEUE_NAMESPACE,
        chart=kueue_chart(queues),
        objects=objects,
        pod_security="restricted",
    )


def queue_labels(workload: WorkloadSpec) -> dict[str, str]:
    """What puts a workload in its team's queue at its kind's priority; none without a team."""
    if workload.team is None:
        return {}
    kind = "training" if isinstance(workload, TrainingWorkloadSpec) else "inference"
    return {
        QUEUE_LABEL: local_queue_name(workload.team, workload.placement),
        PRIORITY_CLASS_LABEL: priority_class_name(workload.team, kind),
    }
