"""torchrun's rendezvous as the TrainingJob configures it, checked with torch's own code (issue 12 item 9).

A job's pods start minutes apart (a node scaling up from zero, a multi-GB image pull). With torch's
defaults the first pod gives up before the last arrives: the c10d backend's ``read_timeout`` (60 s) is
also the TCPStore's connect timeout, so a pod whose rendezvous host (pod 0) is not up within a minute
fails (torch 2.13, ``elastic/rendezvous/c10d_rendezvous_backend.py``), and ``join_timeout`` (600 s) bounds
the whole rendezvous. torchrun then exits 1, which the job's failure policy must not treat as a bug.
"""

from __future__ import annotations

import socket
import threading
import time
from datetime import timedelta

import pytest
from manifest_helpers import Manifests, main_container
from plan_helpers import whole_plan

torch_run = pytest.importorskip("torch.distributed.run")
from torch.distributed import TCPStore  # noqa: E402
from torch.distributed.elastic.rendezvous import RendezvousParameters  # noqa: E402
from torch.distributed.elastic.rendezvous.api import RendezvousConnectionError  # noqa: E402
from torch.distributed.elastic.rendezvous.c10d_rendezvous_backend import _create_tcp_store  # noqa: E402


def _expanded(args: list[str]) -> list[str]:
    """The arguments as the kubelet hands them over, ``$(VAR)`` expanded."""
    values = {"$(NNODES)": "2", "$(CHECKPOINT_DIR)": "/checkpoints"}
    for variable, value in values.items():
        args = [a.replace(variable, value) for a in args]
    return args


def test_torchrun_takes_every_flag_the_job_passes_and_reads_the_timeouts() -> None:
    args = main_container(Manifests(whole_plan("aws-prod")).one("Job", "pretrain"))["args"]
    parsed = torch_run.get_args_parser().parse_args(_expanded(args))
    config, _, trainer_args = torch_run.config_from_args(parsed)
    assert (config.min_nodes, config.max_nodes) == (2, 2)
    assert config.rdzv_configs["join_timeout"] == "1800"
    assert config.rdzv_configs["read_timeout"] == "1800"
    assert trainer_args[trainer_args.index("-m") + 1] == "workloads.train"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _connect_to_a_late_host(read_timeout: int, host_delay: float) -> bool:
    """Whether an agent reaches the rendezvous store of a host that starts ``host_delay`` seconds late."""
    port, stop = _free_port(), threading.Event()

    def late_host() -> None:
        time.sleep(host_delay)
        store = TCPStore("127.0.0.1", port, is_master=True, multi_tenant=True, timeout=timedelta(seconds=30))
        stop.wait()
        del store

    threading.Thread(target=late_host, daemon=True).start()
    params = RendezvousParameters(
        "c10d", f"127.0.0.1:{port}", "job", 2, 2, is_host="false", read_timeout=str(read_timeout)
    )
    try:
        _create_tcp_store(params)
        return True
    except RendezvousConnectionError:
        return False
    finally:
        stop.set()


@pytest.mark.slow
def test_read_timeout_is_how_long_a_pod_waits_for_the_rendezvous_host_to_come_up() -> None:
    # The premise of the fix, on torch's own backend: a host later than read_timeout fails the agent.
    # Wide margins: on a loaded machine the host's thread can start seconds late.
    assert not _connect_to_a_late_host(read_timeout=1, host_delay=6)
    assert _connect_to_a_late_host(read_timeout=30, host_delay=1)
