"""The contract between the platform and the programs it runs, defined once and imported by both sides.

The Kubernetes components (what they set, probe, scrape and alert on), the trainer and the server (what
they read, serve and report) and the ``lepton-infra`` command all take these names and numbers from here.
This module imports nothing, so the workload images carry it alone (``lepton_infra/__init__.py`` and this
file). Later additions to the contract go here too, never beside it.

How a preemption flows through the contract, end to end (the one account of it; the launcher, the stop
report, the TrainingJob's failure policy and the spec's ``fail_fast_exit_codes`` point here):

1. The node is drained (spot reclaim, scale-down, upgrade) or the pod deleted: the kubelet sends SIGTERM
   to the trainer's container and waits the spec's ``termination_grace_period_seconds`` before SIGKILL.
   An eviction also gives the pod the ``DisruptionTarget`` condition; a plain deletion does not.
2. The image's ``torchrun`` is ``workloads.train.launch``: it forwards SIGTERM to its workers instead of
   letting torchrun's agent turn it into a failure.
3. Each worker finishes its current step. The step's all-reduce carries the stop request to every rank of
   every node, so all ranks stop after the same step, nodes that got no SIGTERM included, and rank 0
   writes one checkpoint.
4. A worker stopped so exits with the status in ``PREEMPTED_EXIT_CODE_ENV`` (or its
   ``--preempted-exit-code``), which the TrainingJob sets to ``PREEMPTED_EXIT_CODE``; without either, 0.
   Under the launcher it exits 0 instead and leaves that status in a report (``workloads.train.stop_report``),
   because torchrun's agent restarts the group on any nonzero exit; once all its workers are done, the
   launcher exits with the reported status.
5. The Job's ``podFailurePolicy`` ignores a failed pod that has ``DisruptionTarget`` or exited
   ``PREEMPTED_EXIT_CODE``: the Job recreates it once the old pod is gone, without counting against
   ``backoff_limit``, and the new pod resumes from the newest checkpoint. Every node's pod exits so, not
   only the drained one's, and each must be retried: a pod that exits 0 completes its index for good, and
   its rank would be missing when the replacements meet at the rendezvous. The codes in the spec's
   ``fail_fast_exit_codes`` (by default ``TrainExit.BAD_INPUT`` alone) fail the Job at once; any other
   failure counts against ``backoff_limit``.

A SIGTERM that comes before any worker has started ends the launcher by the signal (status 143), with
nothing to save; only ``DisruptionTarget`` then keeps that retry from counting.

Why ``TrainExit.FAILED`` (1) is not fail-fast by default: under the launcher a worker's own status never
reaches the Job (torchrun restarts the group up to ``--max_restarts`` times, then raises and exits 1), and
torchrun exits 1 just the same when its rendezvous times out or loses its store
(``RendezvousTimeoutError``, ``RendezvousConnectionError``): a peer pod that started more than the spec's
``rendezvous_timeout_seconds`` late, after a scale-up from zero and a multi-GB image pull. A bug fails again
on each retry, until ``backoff_limit``; a late peer heals on the first. The launcher exits 2 for its own
usage errors (torchrun's argument parser), and when its workers hand over ``BAD_INPUT`` because the
checkpoint store refused the pod (below); neither heals on a retry. Were the launcher to give a rendezvous
failure a status of its own, 1 could go back to the fail-fast default.

When the checkpoint store fails, every rank stops with the same status too (rank 0 tells the others in
the step's collectives) and, under the launcher, hands it over the way a preempted worker does (step 4):
``TrainExit.NO_SPACE`` or ``TrainExit.STORAGE_UNAVAILABLE``, which the Job retries (they count against
``backoff_limit``), or ``TrainExit.BAD_INPUT`` where retrying cannot help (the store refuses the pod).
"""

from enum import IntEnum

# The stack `lepton-infra plan` and `validate` use without `--stack` (here so the command's parser needs
# nothing heavier to print it).
DEFAULT_STACK = "aws-dev"


class CliExit(IntEnum):
    """Exit statuses of ``lepton-infra``."""

    # Done: the command did what it was asked, and no mandatory policy is violated.
    OK = 0
    # A mandatory policy is violated (exempted findings never count).
    VIOLATION = 1
    # Bad configuration or input: the message names the file and field.
    BAD_INPUT = 2
    # The reader of our output went away (`lepton-infra policies | head`): the shell's SIGPIPE status.
    BROKEN_PIPE = 141


class TrainExit(IntEnum):
    """Exit statuses of ``workloads.train`` and of its launcher (the image's ``torchrun``).

    Above 128: ended by signal N (128 + N), as the shell reports it.
    """

    # Trained to --max-steps; or stopped by SIGTERM after its checkpoint, where no preempted status is set.
    OK = 0
    # The loss diverged, or a bug (Python's status for an uncaught error, with its traceback); from the
    # launcher, also any worker's failure once torchrun's restarts are spent, and a rendezvous that timed
    # out (a late peer), which a retry heals: so not fail-fast by default (the module docstring says why).
    FAILED = 1
    # Bad flags, configuration file, data or checkpoint location (one the pod may not read or write, or a
    # checkpoint of another model shape): one line on stderr says which.
    BAD_INPUT = 2
    # The checkpoint store did not answer (network, throttling, server errors) through a minute of retries
    # with backoff: at start, or when a checkpoint was due (EX_UNAVAILABLE in sysexits.h). Nothing was
    # resumed from an older checkpoint instead. Retried by the Job (it counts against backoff_limit).
    STORAGE_UNAVAILABLE = 69
    # No space left for a checkpoint, even after removing every older checkpoint but the newest that loads
    # (EX_IOERR in sysexits.h); nothing partial is left. Retried by the Job (it counts against
    # backoff_limit): the retried trainer removes the same and checks the free space before its first step,
    # so while the disk stays full it fails again within seconds, and once room is made it resumes.
    NO_SPACE = 74
    # Stopped by SIGTERM with a checkpoint written: retry me (EX_TEMPFAIL in sysexits.h). Only where the
    # platform asks for it through PREEMPTED_EXIT_CODE_ENV (the preemption flow: this module's docstring).
    PREEMPTED = 75
    # A second Ctrl-C: the person chose not to wait for the checkpoint (128 + SIGINT).
    INTERRUPTED = 130


class ServeExit(IntEnum):
    """Exit statuses of ``workloads.serve``.

    Without a checkpoint yet the server does not exit: it waits, not ready, and loads the first one that
    appears.
    """

    # Drained after SIGTERM or SIGINT, also when it came before a model was loaded; a second signal stops
    # at once, still 0.
    OK = 0
    # A bug: Python's status for an uncaught error, with its traceback.
    FAILED = 1
    # Bad flags, a local checkpoint folder that does not exist, a checkpoint location the pod may not read,
    # or a first checkpoint that does not fit the model: one line on stderr says which.
    BAD_INPUT = 2
    # The port cannot be listened on (taken, or the address is not this machine's): uvicorn's own status
    # (``uvicorn.config.STARTUP_FAILURE``). Nothing else was started.
    CANNOT_LISTEN = 3
    # The checkpoint store did not answer through a minute of retries before a first model was loaded
    # (EX_UNAVAILABLE in sysexits.h); once serving, the server keeps its model and only warns.
    STORAGE_UNAVAILABLE = 69


# The status the TrainingJob asks a preempted trainer for, and retries without counting a failure.
PREEMPTED_EXIT_CODE = int(TrainExit.PREEMPTED)

# Environment the platform sets on workload containers.
CHECKPOINT_DIR_ENV = "CHECKPOINT_DIR"  # a folder or bucket URI: the trainer writes there, the server reads
PREEMPTED_EXIT_CODE_ENV = "LEPTON_PREEMPTED_EXIT_CODE"  # the trainer's status after a preemption stop
NNODES_ENV = "NNODES"  # the job's node count, which torchrun's --nnodes reads
# torchrun's own: how long its agent lets workers finish after SIGTERM before it kills them (30 s by default,
# torch 2.13 torch/distributed/run.py --shutdown-timeout); the platform sets it to the pod's grace period.
TORCHRUN_SHUTDOWN_TIMEOUT_ENV = "TORCH_ELASTIC_SHUTDOWN_TIMEOUT"

# Variables a workload's own `env` may not set: the platform sets them (and MODEL_DIR_ENV, defined below).
PLATFORM_ENV = (
    CHECKPOINT_DIR_ENV,
    PREEMPTED_EXIT_CODE_ENV,
    NNODES_ENV,
    TORCHRUN_SHUTDOWN_TIMEOUT_ENV,
    "HOME",  # /tmp: the root filesystem is read-only
    "PYTHONUNBUFFERED",
)

# Ports.
TRAIN_METRICS_PORT = 9102  # rank 0's Prometheus endpoint
RENDEZVOUS_PORT = 29500  # torchrun's c10d rendezvous on the node of rank 0
SERVE_PORT = 8080  # the server's HTTP port, unless the inference spec names another

# The server's HTTP paths the platform probes and scrapes (the trainer's metrics endpoint answers on any).
HEALTH_PATH = "/healthz"  # startup and liveness: fails only when restarting the process is the fix
READY_PATH = "/readyz"  # readiness: 200 once warmed up, 503 while loading or draining
METRICS_PATH = "/metrics"
# The server's API (OpenAI's shapes), which the platform's Service and Ingress expose.
COMPLETIONS_PATH = "/v1/completions"
MODELS_PATH = "/v1/models"

# Metric names (and labels) the platform's alerts and autoscaler read.
TRAIN_LAST_STEP_METRIC = "lepton_train_last_step_timestamp_seconds"  # a gauge, Unix time
SERVE_REQUESTS_METRIC = "lepton_serve_requests"  # a counter: exposed as lepton_serve_requests_total
SERVE_ENDPOINT_LABEL = "endpoint"  # of SERVE_REQUESTS_METRIC: the path, for known ones only
SERVE_STATUS_LABEL = "status"  # of SERVE_REQUESTS_METRIC: the HTTP status code
SERVE_LATENCY_METRIC = "lepton_serve_request_duration_seconds"  # a histogram of completion requests
SERVE_QUEUE_DEPTH_METRIC = "lepton_serve_queue_depth"  # a gauge, per replica

# The model handoff: a weights-only export the trainer writes beside its checkpoints, in a Hugging Face
# layout, so that any server loads it (ours, vLLM, a custom one) without our training state or code.
#
#   <CHECKPOINT_DIR>/export/step-00000042/config.json            GPT-2-style model configuration
#   <CHECKPOINT_DIR>/export/step-00000042/model.safetensors      the weights, nothing else
#   <CHECKPOINT_DIR>/export/step-00000042/tokenizer.json         the tokenizer of the 256-byte vocabulary
#   <CHECKPOINT_DIR>/export/step-00000042/tokenizer_config.json
#   <CHECKPOINT_DIR>/export/latest                               text: the name of the newest complete export
#
# The writer finishes every file of ``step-N/`` first, then replaces ``latest`` (one small object: a single
# PUT in a bucket, a rename on a disk), so a reader that follows ``latest`` never sees a partial export. A
# reader never lists ``export/`` to guess: an export ``latest`` does not name may still be being written.
# Writers may delete exports older than the one ``latest`` names and any the checkpoints no longer keep.
EXPORT_DIR = "export"
EXPORT_LATEST_MARKER = "latest"
EXPORT_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")
# Where a server that reads local files finds the export the platform staged for it (vLLM, a custom server).
MODEL_DIR_ENV = "LEPTON_MODEL_DIR"
RESERVED_ENV = (*PLATFORM_ENV, MODEL_DIR_ENV)


def export_name(step: int) -> str:
    """The directory name of the export of training step ``step`` under ``EXPORT_DIR``: ``step-00000042``."""
    return f"step-{step:08d}"


def export_path(checkpoint_dir: str, step: int) -> str:
    """``<checkpoint_dir>/export/step-N``, in the form of ``checkpoint_dir`` (a path or a bucket URI)."""
    return f"{checkpoint_dir.rstrip('/')}/{EXPORT_DIR}/{export_name(step)}"


def export_latest_marker(checkpoint_dir: str) -> str:
    """``<checkpoint_dir>/export/latest``: read it, then read the export it names."""
    return f"{checkpoint_dir.rstrip('/')}/{EXPORT_DIR}/{EXPORT_LATEST_MARKER}"
