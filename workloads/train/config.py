"""The trainer's settings: flags, an optional YAML or JSON file with the same keys, and their checks.

Precedence, highest first: a flag on the command line, the environment (``CHECKPOINT_DIR_ENV`` for the
checkpoint location and ``PREEMPTED_EXIT_CODE_ENV``, from ``lepton_infra.contract``: the Kubernetes
TrainingJob sets both), the ``--config`` file, the defaults below. Every mistake a user can make here (an
unknown flag, a value out of range, a data path that cannot be read, heads that do not divide the width, a
bucket URI whose storage package is not installed) ends the process with ``TrainExit.BAD_INPUT`` and one
line on stderr, so a misconfigured job says what is wrong in the first line of its log.
"""

from __future__ import annotations

import argparse
import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NoReturn

import yaml

from lepton_infra.contract import CHECKPOINT_DIR_ENV, PREEMPTED_EXIT_CODE_ENV, TRAIN_METRICS_PORT, TrainExit
from workloads.checkpoint import CheckpointStorageError, check_location
from workloads.model import ModelConfig
from workloads.train.corpus import CorpusError, open_corpus

PROG = "python -m workloads.train"
# Settings a platform (the TrainingJob) fixes for every run it starts.
_ENVIRONMENT = {"checkpoint_dir": CHECKPOINT_DIR_ENV, "preempted_exit_code": PREEMPTED_EXIT_CODE_ENV}


@dataclass(frozen=True)
class TrainConfig:
    """Everything one training run needs; stored in each checkpoint for the record."""

    max_steps: int
    # A path or an object-store URI (s3://, az://, oss:// ...): see workloads.checkpoint.storage.
    checkpoint_dir: str
    checkpoint_every: int
    keep_last: int
    data: Path | None
    batch_size: int
    grad_accum_steps: int
    seq_len: int
    n_layer: int
    n_head: int
    n_embd: int
    dropout: float
    lr: float
    warmup_steps: int
    weight_decay: float
    grad_clip: float
    seed: int
    log_every: int
    compile: bool
    metrics_port: int
    preempted_exit_code: int
    # Write the weights-only Hugging Face export (workloads.export) beside each checkpoint.
    export: bool = True

    def model_config(self) -> ModelConfig:
        return ModelConfig(
            n_layer=self.n_layer,
            n_head=self.n_head,
            n_embd=self.n_embd,
            seq_len=self.seq_len,
            dropout=self.dropout,
        )

    def to_dict(self) -> dict[str, Any]:
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse's default prints the whole usage block first; a pod's log tail should show the problem.
        self.exit(TrainExit.BAD_INPUT, f"{self.prog}: error: {message} (see --help)\n")


def parse_config(argv: Sequence[str] | None = None) -> TrainConfig:
    """Parse flags (and ``--config``), check them, and exit with one line when something is wrong."""
    parser = _build_parser()
    known, _ = parser.parse_known_args(argv)
    if known.config is not None:
        parser.set_defaults(**_read_config_file(parser, known.config))
    parser.set_defaults(**_read_environment(parser))
    args = vars(parser.parse_args(argv))
    del args["config"]
    config = TrainConfig(**args)
    _check(parser, config)
    return config


def _build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog=PROG,
        description="Train the byte-level GPT; run it under torchrun for data-parallel training.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = parser.add_argument
    add("--config", type=Path, help="YAML or JSON file with the same keys as the flags; flags override it")
    add("--max-steps", type=_positive(int), default=5000, help="optimizer steps to train in total")
    add(
        "--checkpoint-dir",
        default="checkpoints",
        help="folder or bucket URI (s3://, az://, oss:// ...) where checkpoints go and resume from; "
        f"without the flag, ${CHECKPOINT_DIR_ENV} if set",
    )
    add("--checkpoint-every", type=_positive(int), default=500, help="steps between checkpoints")
    add("--keep-last", type=_positive(int), default=3, help="checkpoints (and exports) to keep")
    add(
        "--export",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="beside each checkpoint, write its weights in Hugging Face's layout (export/step-N/: GPT-2 "
        "config.json, model.safetensors, tokenizer) and name it in export/latest, for vLLM, transformers "
        "and our server",
    )
    add(
        "--data",
        type=Path,
        default=None,
        help="text file or folder of them; default: the Python stdlib sources",
    )
    add("--batch-size", type=_positive(int), default=16, help="sequences per micro-batch on each rank")
    add("--grad-accum-steps", type=_positive(int), default=1, help="micro-batches per optimizer step")
    add("--seq-len", type=_positive(int), default=256, help="context length in bytes")
    add("--n-layer", type=_positive(int), default=6, help="transformer blocks")
    add("--n-head", type=_positive(int), default=6, help="attention heads per block")
    add("--n-embd", type=_positive(int), default=384, help="model width")
    add("--dropout", type=_fraction, default=0.0, help="dropout probability")
    add("--lr", type=_positive(float), default=1e-3, help="peak learning rate (AdamW)")
    add(
        "--warmup-steps", type=_non_negative_int, default=100, help="linear warm-up steps before cosine decay"
    )
    add("--weight-decay", type=_non_negative_float, default=0.1, help="AdamW weight decay on matrices")
    add("--grad-clip", type=_non_negative_float, default=1.0, help="max gradient norm; 0 disables clipping")
    add("--seed", type=_non_negative_int, default=1337, help="seed for weights, data order and dropout")
    add("--log-every", type=_positive(int), default=10, help="steps between JSON log lines")
    add("--compile", action=argparse.BooleanOptionalAction, default=False, help="torch.compile the model")
    add(
        "--metrics-port",
        type=_port,
        default=TRAIN_METRICS_PORT,
        help="Prometheus port on rank 0; 0 disables",
    )
    add(
        "--preempted-exit-code",
        type=_preempted_exit_code,
        default=0,
        help="exit status of every rank (and of the launcher) when SIGTERM stopped the run after its "
        "checkpoint; nonzero tells a Kubernetes Job that the work is unfinished. Without the flag, "
        f"${PREEMPTED_EXIT_CODE_ENV} if set",
    )
    return parser


def _read_environment(parser: argparse.ArgumentParser) -> dict[str, Any]:
    actions = {a.dest: a for a in parser._actions}
    values: dict[str, Any] = {}
    for key, variable in _ENVIRONMENT.items():
        if os.environ.get(variable):
            values[key] = _coerce(parser, f"${variable}", actions[key], os.environ[variable])
    return values


def _read_config_file(parser: argparse.ArgumentParser, path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
        loaded = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError) as error:
        parser.error(f"--config {path}: {getattr(error, 'strerror', None) or error}")
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        parser.error(
            f"--config {path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {_first_line(error)}"
        )
    if not isinstance(loaded, dict):
        parser.error(f"--config {path}: expected a mapping of setting names to values")
    actions = {a.dest: a for a in parser._actions if a.dest not in ("help", "config")}
    values: dict[str, Any] = {}
    for raw_key, value in loaded.items():
        key = str(raw_key).replace("-", "_")
        action = actions.get(key)
        if action is None:
            parser.error(f"--config {path}: unknown setting {raw_key!r}")
        values[key] = _coerce(parser, f"--config {path}: {raw_key}", action, value)
    return values


def _coerce(parser: argparse.ArgumentParser, origin: str, action: argparse.Action, value: Any) -> Any:
    # Values from a file or the environment go through the flag's own converter: `max_steps: -1` fails
    # just as `--max-steps -1` does.
    if action.nargs == 0:
        if not isinstance(value, bool):
            parser.error(f"{origin}: expected true or false, got {value!r}")
        return value
    if isinstance(value, bool | list | dict) or value is None:
        parser.error(f"{origin}: expected a single value, got {value!r}")
    convert: Callable[[str], Any] = action.type if callable(action.type) else str
    try:
        return convert(str(value))
    except (argparse.ArgumentTypeError, ValueError) as error:
        parser.error(f"{origin}: {error}")


def _check(parser: argparse.ArgumentParser, config: TrainConfig) -> None:
    try:
        config.model_config()
    except ValueError as error:
        parser.error(str(error).replace("n_embd", "--n-embd").replace("n_head", "--n-head"))
    try:
        open_corpus(config.data)
    except CorpusError as error:
        parser.error(str(error))
    try:
        check_location(config.checkpoint_dir)
    except CheckpointStorageError as error:
        parser.error(f"--checkpoint-dir {error}")


def _positive(kind: type[int] | type[float]) -> Callable[[str], Any]:
    def convert(text: str) -> int | float:
        value = _number(kind, text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text!r}")
        return value

    return convert


def _preempted_exit_code(text: str) -> int:
    value = int(_number(int, text))
    # The trainer's own statuses mean other things (TrainExit); 126 and up, the shell's and deaths by signal.
    own = sorted(int(status) for status in TrainExit if status not in (TrainExit.OK, TrainExit.PREEMPTED))
    if value != 0 and (not 3 <= value <= 125 or value in own):
        taken = ", ".join(str(status) for status in own if status <= 125)
        raise argparse.ArgumentTypeError(
            f"must be 0 or 3-125 except the trainer's own statuses ({taken}), got {text!r}"
        )
    return value


def _non_negative_int(text: str) -> int:
    value = int(_number(int, text))
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be zero or more, got {text!r}")
    return value


def _non_negative_float(text: str) -> float:
    value = float(_number(float, text))
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be zero or more, got {text!r}")
    return value


def _fraction(text: str) -> float:
    value = float(_number(float, text))
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text!r}")
    return value


def _port(text: str) -> int:
    value = int(_number(int, text))
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a TCP port (1-65535) or 0 to disable, got {text!r}")
    return value


def _number(kind: type[int] | type[float], text: str) -> int | float:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected {'an integer' if kind is int else 'a number'}, got {text!r}"
        ) from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be finite, got {text!r}")
    return value


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
