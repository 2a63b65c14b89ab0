"""In-process workload tests never sleep through the store's retries: each retry waits no time at all.

Tests of the retry policy itself pass a ``Retry`` of their own.
"""

from __future__ import annotations

import pytest

from workloads.checkpoint import faults


@pytest.fixture(autouse=True)
def _retries_do_not_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(faults, "DEFAULT_RETRY", faults.Retry(sleep=lambda _seconds: None))
