"""The contract between the platform and the programs it runs, defined once and imported by both sides.

The Kubernetes components (what they set, probe, scrape and alert on), the trainer and the server (what
they read and report) and the ``lepton-infra`` command all take these names and numbers from here. This
module imports nothing, so the workload images carry it alone (``lepton_infra/__init__.py`` and this file).

How a preemption flows through the contract, end to end:

1. The node is drained (spot reclaim, scale-down, upgrade): the kubelet sends SIGTERM to the training pod
   and waits ``termination_grace_period_seconds`` before SIGKILL.
2. ``workloads.train.launch`` (the image's ``torchrun``) forwards SIGTERM to its workers instead of letting
   torchrun's agent turn it into a failure; every rank finishes its step, rank 0 writes one checkpoint.
3. Each worker, told ``PREEMPTED_EXIT_CODE_ENV`` by the TrainingJob, leaves its status in a report for the
   launcher (``workloads.train.stop_report``) and exits 0, so the agent does not restart the group.
4. The launcher exits ``TrainExit.PREEMPTED``: the Job's ``podFailurePolicy`` ignores that code (the retry
   does not count against ``backoff_limit``) and recreates the pod, which resumes from the checkpoint.
   Exit 0 would complete the pod's index for good; the codes in the spec's ``fail_fast_exit_codes`` fail
   the Job at once.
"""

from enum import IntEnum


class CliExit(IntEnum):
    """Exit statuses of ``lepton-infra``."""

    OK = 0
    # A mandatory policy is violated (exempted findings never count).
    VIOLATION = 1
    # Bad configuration or input: the message names the file and field.
    BAD_INPUT = 2
    # The reader of our output went away (`lepton-infra policies | head`): the shell's SIGPIPE status.
    BROKEN_PIPE = 141


class TrainExit(IntEnum):
    """Exit statuses of ``workloads.train`` (and of its launcher)."""

    OK = 0
    # torchrun's own status once its restarts are spent, or an unexpected error: a bug, fail fast.
    FAILED = 1
    # Bad arguments, unreadable data or configuration: retrying cannot help.
    BAD_INPUT = 2
    # Stopped by SIGTERM with a checkpoint written: retry me (EX_TEMPFAIL in sysexits.h).
    PREEMPTED = 75


class ServeExit(IntEnum):
    """Exit statuses of ``workloads.serve``."""

    OK = 0
    # Bad flags or an unusable checkpoint location.
    BAD_INPUT = 2


# The trainer's status after a preemption checkpoint; the TrainingJob retries it without counting a failure.
PREEMPTED_EXIT_CODE = int(TrainExit.PREEMPTED)

# Environment the platform sets on workload containers.
CHECKPOINT_DIR_ENV = "CHECKPOINT_DIR"
PREEMPTED_EXIT_CODE_ENV = "LEPTON_PREEMPTED_EXIT_CODE"

# Ports.
TRAIN_METRICS_PORT = 9102  # rank 0's Prometheus endpoint
RENDEZVOUS_PORT = 29500  # torchrun's c10d rendezvous on the node of rank 0
SERVE_PORT = 8080

# The server's HTTP paths the platform probes and scrapes.
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
METRICS_PATH = "/metrics"

# Metric names the platform's alerts and autoscaler read.
TRAIN_LAST_STEP_METRIC = "lepton_train_last_step_timestamp_seconds"
SERVE_REQUESTS_METRIC = "lepton_serve_requests"  # a counter: exposed as lepton_serve_requests_total
SERVE_LATENCY_METRIC = "lepton_serve_request_duration_seconds"  # a histogram
SERVE_QUEUE_DEPTH_METRIC = "lepton_serve_queue_depth"
