"""The trainer says so when the node's locked-memory limit keeps NCCL off its InfiniBand fabric.

Training pods on AKS InfiniBand pools had ``IPC_LOCK`` in their fabric's description, never applied, and
applying it would not help: Pod Security "restricted" refuses any added capability but NET_BIND_SERVICE,
and for our non-root UID an added capability never becomes effective (kubernetes/kubernetes#56374,
NVIDIA/nvidia-container-toolkit#2037: ``CapEff`` 0 and ``ulimit -l`` 8192 KB as uid 1000 with IPC_LOCK
added). NCCL's ``ibv_reg_mr`` then fails with ENOMEM and the job runs over TCP sockets or fails. The limit
comes from containerd's ``LimitMEMLOCK`` (kubesphere/kubekey#2609); the trainer cannot raise it, so it
names the node-level fix at the start of a distributed run.
"""

from __future__ import annotations

import logging
import resource
from pathlib import Path

import pytest

from workloads.train import memlock

EIGHT_MIB = 8 * 1024 * 1024  # containerd's default under systemd (NVIDIA/nvidia-container-toolkit#2037)


@pytest.fixture
def infiniband(tmp_path: Path) -> Path:
    devices = tmp_path / "infiniband"
    devices.mkdir()
    (devices / "uverbs0").touch()
    return devices


def _limit(monkeypatch: pytest.MonkeyPatch, soft: int) -> None:
    def getrlimit(which: int) -> tuple[int, int]:
        assert which == resource.RLIMIT_MEMLOCK
        return soft, soft

    monkeypatch.setattr(memlock.resource, "getrlimit", getrlimit)


def test_a_node_with_infiniband_and_the_default_limit_gets_the_warning_and_the_fix(
    infiniband: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _limit(monkeypatch, EIGHT_MIB)
    monkeypatch.delenv("NCCL_IB_DISABLE", raising=False)
    with caplog.at_level(logging.WARNING):
        memlock.warn_if_memlock_too_low(infiniband)
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert "8192 KiB" in message and "ibv_reg_mr" in message
    assert "LimitMEMLOCK=infinity" in message and "ulimit -l" in message


def test_an_unlimited_limit_passes(infiniband: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _limit(monkeypatch, resource.RLIM_INFINITY)
    assert memlock.memlock_problem(infiniband, {}) is None


def test_a_large_but_finite_limit_still_warns(infiniband: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # What NCCL pins grows with channels and peers: only unlimited is safe for every world size.
    _limit(monkeypatch, 64 * 1024 * 1024 * 1024)
    assert memlock.memlock_problem(infiniband, {}) is not None


def test_no_fabric_no_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _limit(monkeypatch, 64 * 1024)
    assert memlock.memlock_problem(tmp_path / "absent", {}) is None
    # InfiniBand turned off: NCCL registers nothing.
    assert memlock.memlock_problem(tmp_path, {"NCCL_IB_DISABLE": "1"}) is None


def test_infiniband_expected_by_the_platform_is_checked_even_before_its_devices_show(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The InfiniBand fabric's pods get NCCL_IB_DISABLE=0 (components/azure/infiniband.py).
    _limit(monkeypatch, 64 * 1024)
    problem = memlock.memlock_problem(tmp_path / "absent", {"NCCL_IB_DISABLE": "0"})
    assert problem is not None and "64 KiB" in problem
