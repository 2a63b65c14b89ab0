"""A site of ``cloud: existing``: a Kubernetes cluster someone already runs (on-prem, or built elsewhere).

Nothing of the cluster is created; only the Kubernetes layer is deployed into it. Its GPU pools are
described rather than built, so each pool states how its nodes are labelled and tainted and how many
GPUs a node has: there is no catalog instance type to look that up from.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from lepton_infra.blueprint.base import DnsLabel, KubernetesVersion, SpecModel, rule_error
from lepton_infra.blueprint.gpu_operator import GpuOperatorSpec
from lepton_infra.blueprint.names import EnvName
from lepton_infra.catalog import Accelerator

# A label or taint key: an optional DNS-subdomain prefix and a name (Kubernetes "qualified name").
QualifiedName = Annotated[
    str,
    StringConstraints(
        pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$",
        max_length=316,
    ),
]
LabelValue = Annotated[str, StringConstraints(pattern=r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")]
# An in-cluster or external Prometheus the metrics adapter reads: http(s), a host, an optional port and path.
PROMETHEUS_URL_PATTERN = r"^https?://[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:\d{1,5})?(/[-A-Za-z0-9._~/]*)?$"
# A Pulumi config key of this project, without the `lepton-infra:` namespace.
ConfigKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")]


class TaintSpec(SpecModel):
    key: QualifiedName = Field(description="Taint key, e.g. nvidia.com/gpu.")
    value: LabelValue | None = Field(default=None, description="Taint value; omit for a key-only taint.")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = Field(description="Taint effect.")


class ExistingGpuPoolSpec(SpecModel):
    """A group of GPU nodes already in the cluster, told apart by labels the nodes carry."""

    name: DnsLabel = Field(description="Pool name, unique within its site.")
    accelerator: Accelerator = Field(description="GPU model of the pool's nodes.")
    gpus_per_node: int = Field(
        ge=1, le=16, description="GPUs each node of the pool exposes as nvidia.com/gpu."
    )
    max_nodes: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="Most nodes the pool has or scales to; lets team quotas be checked against it.",
    )
    node_labels: dict[QualifiedName, LabelValue] = Field(
        min_length=1,
        description=(
            "Labels every node of the pool carries (e.g. nvidia.com/gpu.product from GPU feature discovery); "
            "workload pods select all of them."
        ),
    )
    taints: tuple[TaintSpec, ...] = Field(
        default=(TaintSpec(key="nvidia.com/gpu", value="present", effect="NoSchedule"),),
        description="Taints on the pool's nodes; GPU pods tolerate exactly these (default: nvidia.com/gpu).",
    )


class KubeconfigSpec(SpecModel):
    """Where the cluster's kubeconfig comes from: a file, or a secret config value (never plain config)."""

    path: str | None = Field(
        default=None,
        min_length=1,
        max_length=4096,
        description=(
            "Path of a kubeconfig file, relative to the Pulumi project, inside it: an absolute path, `~` or "
            "a `..` that leaves the project (links followed) is refused unless allow_outside_project. Never "
            "the file's content: that goes in secret config (secret_config_key)."
        ),
    )
    allow_outside_project: bool = Field(
        default=False,
        description=(
            "Let `path` name a file outside the project (e.g. ~/.kube/config on an operator's machine). "
            "Off by default: `lepton-infra plan` and `pulumi up` read the file, and a stack file from an "
            "untrusted change could otherwise point them at any file of the machine."
        ),
    )
    secret_config_key: ConfigKey | None = Field(
        default=None,
        description=(
            "Key of a secret config value holding the kubeconfig's content "
            "(`pulumi config set --secret <key> < kubeconfig`), in the lepton-infra namespace. A key that "
            "holds a plain (not `secure:`) value is refused."
        ),
    )
    context: str | None = Field(
        default=None, min_length=1, description="Context to use; the file's current one if omitted."
    )

    @model_validator(mode="after")
    def _exactly_one_source(self) -> KubeconfigSpec:
        if (self.path is None) == (self.secret_config_key is None):
            raise ValueError(
                "give exactly one of `path` (a kubeconfig file) or `secret_config_key` (secret config)"
            )
        if self.path is not None and not self.allow_outside_project and (problem := path_leaves(self.path)):
            raise rule_error(
                [("path", f"{problem}; keep the file in the project, or set allow_outside_project")]
            )
        return self


def path_leaves(path: str) -> str | None:
    """Why ``path``, as written, leaves the directory it is relative to (None: it stays inside)."""
    if "\n" in path or "\x00" in path:
        return None  # not a path at all: the secret scan says what it is
    if path.startswith(("/", "~", "\\")) or (len(path) > 1 and path[1] == ":"):
        return "an absolute path leaves the project"
    depth = 0
    for part in path.replace("\\", "/").split("/"):
        depth += -1 if part == ".." else (0 if part in ("", ".") else 1)
        if depth < 0:
            return "a `..` leaves the project"
    return None


class ExistingSiteSpec(SpecModel):
    """A cluster that already exists: the platform deploys only its Kubernetes layer there."""

    cloud: Literal["existing"] = Field(description="A cluster built elsewhere (on-prem, or another tool's).")
    name: DnsLabel = Field(description="Site name, unique in the platform; prefixes the site's resources.")
    kubernetes_version: KubernetesVersion = Field(
        description="The cluster's Kubernetes minor version; manifests are checked against it."
    )
    kubeconfig: KubeconfigSpec = Field(description="How to reach the cluster's API.")
    registry: str = Field(
        pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:\d{1,5})?(/[a-z0-9]+([._-][a-z0-9]+)*)*$",
        max_length=200,
        description="Registry host (and optional path prefix) the cluster pulls workload images from.",
    )
    artifact_bucket_uri: str | None = Field(
        default=None,
        pattern=r"^(s3|gs|az|abfss|oss)://[a-z0-9][-a-z0-9.]{1,62}(/.*)?$",
        description="Object store URI; needed by workloads that keep checkpoints in a bucket.",
    )
    artifact_env: dict[EnvName, str] = Field(
        default_factory=dict,
        description=(
            "Environment variables workloads need to reach artifact_bucket_uri besides their identity, "
            "e.g. {AWS_ENDPOINT_URL: https://minio.example.internal} for an S3-compatible store."
        ),
    )
    gpu_pools: tuple[ExistingGpuPoolSpec, ...] = Field(
        default=(), description="The cluster's GPU node groups."
    )
    gpu_stack: Literal["operator-with-driver", "operator", "preinstalled"] = Field(
        default="preinstalled",
        description=(
            "What to install for GPUs: `preinstalled` (default: the cluster already runs a GPU stack), "
            "`operator` (NVIDIA GPU Operator; nodes have driver and container toolkit), "
            "`operator-with-driver` (the operator installs those too, for bare nodes)."
        ),
    )
    gpu_operator: GpuOperatorSpec | None = Field(
        default=None,
        description=(
            "How the GPU Operator is set up (gpu_stack `operator` or `operator-with-driver` only): driver "
            "version, the distribution's containerd, MIG strategy, DCGM exporter, further chart values."
        ),
    )
    prometheus_operator: bool = Field(
        default=False,
        description="The Prometheus Operator's CRDs are installed: emit ServiceMonitors and PrometheusRules.",
    )
    monitoring_namespace: DnsLabel = Field(
        default="monitoring", description="Namespace of the Prometheus that scrapes workload metrics."
    )
    prometheus_url: str | None = Field(
        default=None,
        pattern=PROMETHEUS_URL_PATTERN,
        max_length=300,
        description=(
            "URL of the cluster's Prometheus, which the metrics adapter reads for pods-metric autoscaling. "
            "Default: the Prometheus Operator's prometheus-operated Service in monitoring_namespace where "
            "prometheus_operator is set, else a Prometheus the platform installs."
        ),
    )
    service_account_annotations: dict[QualifiedName, str] = Field(
        default_factory=dict,
        description="Annotations for every workload ServiceAccount, e.g. to bind an identity made elsewhere.",
    )

    @model_validator(mode="after")
    def _gpu_operator_fits_the_gpu_stack(self) -> ExistingSiteSpec:
        operator = self.gpu_operator
        if operator is None or self.gpu_stack == "operator-with-driver":
            return self
        if self.gpu_stack == "preinstalled":
            raise rule_error(
                [("gpu_operator", "the platform installs no GPU Operator with gpu_stack preinstalled")]
            )
        # gpu_stack operator: the nodes bring driver and toolkit, and the operator's own stay off.
        issues = []
        if operator.driver_version is not None or operator.precompiled_driver:
            issues.append(
                (
                    "gpu_operator.driver_version",
                    "the nodes' own driver runs with gpu_stack operator; use operator-with-driver to have "
                    "the operator install one",
                )
            )
        if operator.container_runtime != "containerd":
            issues.append(
                (
                    "gpu_operator.container_runtime",
                    "the nodes' own container toolkit configures containerd with gpu_stack operator; use "
                    "operator-with-driver to have the operator's toolkit do it",
                )
            )
        if issues:
            raise rule_error(issues)
        return self
