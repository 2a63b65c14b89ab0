"""Command-line flags of ``python -m workloads.serve``, validated before anything heavy loads.

A bad flag, or a local checkpoint folder (or ``--model-dir``) that does not exist, exits
``ServeExit.BAD_INPUT`` at once with one line. An existing folder (or a bucket prefix) without a checkpoint
yet is fine: the server waits.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from lepton_infra.contract import CHECKPOINT_DIR_ENV, EXPORT_DIR, EXPORT_LATEST_MARKER, SERVE_PORT, ServeExit


@dataclass(frozen=True)
class Settings:
    # Where the weights come from: a checkpoint location, a folder or a bucket URI (s3://, az://, oss://);
    # with ``model_dir``, one export directory instead.
    checkpoint_dir: str
    host: str
    port: int
    max_batch_size: int
    max_queue: int
    max_tokens_cap: int
    request_timeout_s: float
    max_body_bytes: int
    drain_timeout_s: float
    model_name: str
    checkpoint_poll_s: float = 10.0
    follow_checkpoints: bool = False
    header_timeout_s: float = 10.0
    max_connections: int = 512
    model_dir: bool = False


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, no usage dump: the message is what a person reading pod logs needs.
        self.exit(ServeExit.BAD_INPUT, f"{self.prog}: error: {message}\n")


def _bounded_int(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}, got {value}")
        return value

    return parse


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def _parser() -> _Parser:
    parser = _Parser(
        prog="python -m workloads.serve",
        description="Serve the newest checkpoint of a directory with an OpenAI-compatible completions API.",
    )
    parser.add_argument(
        "--checkpoint-dir",
        default=None,
        help="folder or bucket URI (s3://, az://, oss://) of checkpoints; the newest step whose weights "
        f"load is served, once one exists: the export {EXPORT_DIR}/{EXPORT_LATEST_MARKER} names, or "
        f"step-*.model.pt (default: ${CHECKPOINT_DIR_ENV}, unless --model-dir is given)",
    )
    parser.add_argument(
        "--model-dir",
        default=None,
        help="instead of --checkpoint-dir: one export directory (config.json, model.safetensors, "
        "tokenizer files), as the model stager fills it or as the trainer writes export/step-N",
    )
    parser.add_argument(
        "--checkpoint-poll-s",
        type=_positive_seconds,
        default=10.0,
        help="how often to look for a first checkpoint (and, with --follow-checkpoints, for newer ones)",
    )
    parser.add_argument(
        "--follow-checkpoints",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="serve each newer checkpoint (of the same shape) training writes, once the running "
        "sequences have finished",
    )
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on (default: all interfaces)")
    parser.add_argument("--port", type=_bounded_int(1, 65535), default=SERVE_PORT)
    parser.add_argument(
        "--max-batch-size", type=_bounded_int(1, 1024), default=32, help="sequences decoded together per step"
    )
    parser.add_argument(
        "--max-queue",
        type=_bounded_int(1, 1_000_000),
        default=256,
        help="sequences allowed to wait for a batch row; beyond it requests get 429",
    )
    parser.add_argument(
        "--max-tokens-cap", type=_bounded_int(1, 1_000_000), default=256, help="largest max_tokens accepted"
    )
    parser.add_argument(
        "--request-timeout-s",
        type=_positive_seconds,
        default=60.0,
        help="budget of one request, reading its body and queueing included; past it the request gets 408",
    )
    parser.add_argument(
        "--header-timeout-s",
        type=_positive_seconds,
        default=10.0,
        help="time a client has to send a request's headers; past it the connection is closed",
    )
    parser.add_argument(
        "--max-connections",
        type=_bounded_int(1, 1_000_000),
        default=512,
        help="connections open at once; beyond it new ones get 503 and are closed",
    )
    parser.add_argument(
        "--max-body-bytes", type=_bounded_int(1, 1 << 30), default=1 << 20, help="larger bodies get 413"
    )
    parser.add_argument(
        "--drain-timeout-s",
        type=_positive_seconds,
        default=25.0,
        help="on SIGTERM, how long in-flight requests may take to finish (keep below the pod's grace period)",
    )
    parser.add_argument("--model-name", default="lepton-gpt", help="the model id clients send in requests")
    return parser


def _check_checkpoint_location(parser: _Parser, location: str) -> None:
    if "://" not in location and not Path(location).is_dir():
        parser.error(
            f"checkpoint directory {location!r} does not exist (an empty one is fine: the server waits "
            "for a first checkpoint there)"
        )
    # Imported only now: flag errors above should not wait for torch to load.
    from workloads.checkpoint import CheckpointStorageError, check_location

    try:
        check_location(location)
    except CheckpointStorageError as error:
        parser.error(str(error))


def _location(parser: _Parser, args: argparse.Namespace) -> tuple[str, bool]:
    """The location to serve from, and whether it is one export directory."""
    if args.model_dir is not None:
        if args.checkpoint_dir is not None:
            parser.error("give --checkpoint-dir or --model-dir, not both")
        if "://" not in args.model_dir and not Path(args.model_dir).is_dir():
            parser.error(f"model directory {args.model_dir!r} does not exist")
        if args.follow_checkpoints:
            parser.error("--follow-checkpoints follows a checkpoint location; a --model-dir is read once")
        return args.model_dir, True
    location = args.checkpoint_dir or os.environ.get(CHECKPOINT_DIR_ENV)
    if not location:
        parser.error(f"--checkpoint-dir is required (or set {CHECKPOINT_DIR_ENV}, or give --model-dir)")
    return location, False


def parse_settings(argv: Sequence[str] | None = None) -> Settings:
    """Parse flags; a bad flag or a missing checkpoint directory exits with one line on stderr."""
    parser = _parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    location, model_dir = _location(parser, args)
    _check_checkpoint_location(parser, location)
    if not args.model_name:
        parser.error("--model-name must not be empty")
    return Settings(
        checkpoint_dir=location,
        model_dir=model_dir,
        host=args.host,
        port=args.port,
        max_batch_size=args.max_batch_size,
        max_queue=args.max_queue,
        max_tokens_cap=args.max_tokens_cap,
        request_timeout_s=args.request_timeout_s,
        max_body_bytes=args.max_body_bytes,
        drain_timeout_s=args.drain_timeout_s,
        model_name=args.model_name,
        checkpoint_poll_s=args.checkpoint_poll_s,
        follow_checkpoints=args.follow_checkpoints,
        header_timeout_s=args.header_timeout_s,
        max_connections=args.max_connections,
    )
