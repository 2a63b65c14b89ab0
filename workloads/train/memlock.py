"""A warning at the start of a distributed run when the node's locked-memory limit keeps NCCL off its RDMA
fabric (InfiniBand, and EFA, whose devices also appear under /dev/infiniband).

NCCL's InfiniBand transport registers (pins) its buffers with ``ibv_reg_mr``, which counts against
``RLIMIT_MEMLOCK``. A container inherits that limit from the container runtime (containerd's systemd
``LimitMEMLOCK``): Kubernetes has no ulimit field (kubernetes/kubernetes#3595), and the capability that
would bypass the limit, ``IPC_LOCK``, is refused by Pod Security "restricted" and would never be effective
for our non-root UID anyway (a non-root process gets no added capability without ambient capabilities:
kubernetes/kubernetes#56374, NVIDIA/nvidia-container-toolkit#2037). With containerd's default limit
(8 MiB, or 64 KiB on older kernels) the registration fails with ENOMEM and the job fails at its first
collective or runs over TCP sockets, many times slower, with nothing in the platform's status to say so.

The threshold is "unlimited" (``RLIM_INFINITY``): what NCCL pins grows with its channels, peers and
protocols (``NCCL_BUFFSIZE``, 4 MiB by default, per connection) and with registered user buffers, so no
finite figure is safe for every world size; NVIDIA's own guidance for RDMA in containers is an unlimited
memlock (``--ulimit memlock=-1``), and the node-level fix (``LimitMEMLOCK=infinity`` for containerd,
kubesphere/kubekey#2609) gives exactly that.
"""

from __future__ import annotations

import logging
import os
import resource
from collections.abc import Mapping
from pathlib import Path

log = logging.getLogger(__name__)

RDMA_DEVICES = Path("/dev/infiniband")
NODE_FIX = (
    "set LimitMEMLOCK=infinity for containerd on the node (a systemd drop-in, then restart containerd; "
    "README: 'Deploying to Azure', InfiniBand) and check that `ulimit -l` in a pod prints unlimited"
)


def _kib(limit: int) -> str:
    return f"{limit // 1024} KiB"


def memlock_problem(devices: Path = RDMA_DEVICES, environ: Mapping[str, str] = os.environ) -> str | None:
    """Why NCCL cannot pin memory for the fabric here, or None where it can or no fabric is expected.

    A fabric is expected where its devices are mounted (``devices``), or where the platform asked NCCL to
    use InfiniBand (``NCCL_IB_DISABLE=0``); ``NCCL_IB_DISABLE=1`` turns the check off.
    """
    disabled = environ.get("NCCL_IB_DISABLE")
    if disabled == "1" or (disabled != "0" and not devices.is_dir()):
        return None
    soft, _hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    if soft == resource.RLIM_INFINITY:
        return None
    return (
        f"the locked-memory limit (ulimit -l) is {_kib(soft)}, not unlimited: NCCL cannot register its "
        "buffers for InfiniBand/RDMA (ibv_reg_mr fails with ENOMEM) and the job fails or falls back to TCP "
        f"sockets. No pod setting can raise it (non-root, Pod Security restricted): {NODE_FIX}"
    )


def warn_if_memlock_too_low(devices: Path = RDMA_DEVICES) -> None:
    """Log ``memlock_problem`` as a warning, if any."""
    problem = memlock_problem(devices)
    if problem is not None:
        log.warning("%s", problem)
