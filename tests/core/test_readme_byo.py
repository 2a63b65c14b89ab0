"""The README's contract for user code says what lepton_infra.contract defines, and its snippet is Python."""

from __future__ import annotations

import ast
import re

from plan_helpers import ROOT

from lepton_infra.contract import (
    CHECKPOINT_DIR_ENV,
    MODEL_DIR_ENV,
    PREEMPTED_EXIT_CODE,
    PREEMPTED_EXIT_CODE_ENV,
    TORCHRUN_SHUTDOWN_TIMEOUT_ENV,
    TRAIN_LAST_STEP_METRIC,
    TRAIN_METRICS_PORT,
)
from lepton_infra.engines import VLLM_VERSION

README = (ROOT / "README.md").read_text()
SECTION = README[README.index("## Bring your own container") : README.index("## Policies")]


def test_the_contract_for_user_code_names_the_contracts_values() -> None:
    for value in (
        CHECKPOINT_DIR_ENV,
        PREEMPTED_EXIT_CODE_ENV,
        TORCHRUN_SHUTDOWN_TIMEOUT_ENV,
        TRAIN_LAST_STEP_METRIC,
        MODEL_DIR_ENV,
        str(TRAIN_METRICS_PORT),
        str(PREEMPTED_EXIT_CODE),
        f"vllm serve` {VLLM_VERSION}",
    ):
        assert value in SECTION, value


def test_the_snippet_parses_and_uses_the_contracts_names() -> None:
    [snippet] = re.findall(r"```python\n(.*?)```", SECTION, re.S)
    ast.parse(snippet)
    assert f'"{PREEMPTED_EXIT_CODE_ENV}"' in snippet and f'"{CHECKPOINT_DIR_ENV}"' in snippet
    assert f'"{TRAIN_LAST_STEP_METRIC}"' in snippet and f"start_http_server({TRAIN_METRICS_PORT})" in snippet
