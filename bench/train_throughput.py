"""Training throughput of the trainer's own step: tokens/s here, and MFU on a GPU whose peak is known.

On the CPU: a small model (4 layers, 256 wide, 256-byte context), fp32, eager. On CUDA: a GPT-2-small
shape (12 layers, 12 heads, 768 wide, 1024 context) with bf16 autocast and ``torch.compile``, the settings
a real run uses. Each step includes the trainer's per-step loss/stop all-reduce and its host sync, so the
figure is what ``lepton_train_tokens_per_second`` would show for one device.

    python -m bench.train_throughput [--steps 20] [--warmup 5] [--batch-size N] [--no-compile]
"""

from __future__ import annotations

import argparse
import time

import torch

from workloads.model import GPT, ModelConfig
from workloads.train.corpus import open_corpus
from workloads.train.data import ShardSampler
from workloads.train.distributed import Runtime, agree
from workloads.train.loop import TrainStep
from workloads.train.optim import build_optimizer, build_scheduler
from workloads.train.throughput import mfu, peak_bf16_flops

GPU_MODEL = ModelConfig(n_layer=12, n_head=12, n_embd=768, seq_len=1024)
CPU_MODEL = ModelConfig(n_layer=4, n_head=4, n_embd=256, seq_len=256)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--steps", type=int, default=20, help="timed optimizer steps")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (compilation, allocator)")
    parser.add_argument(
        "--batch-size", type=int, default=None, help="sequences per step (default: 16 GPU, 8 CPU)"
    )
    parser.add_argument("--no-compile", action="store_true", help="skip torch.compile on the GPU")
    args = parser.parse_args()

    cuda = torch.cuda.is_available()
    device = torch.device("cuda", 0) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
        torch.backends.cuda.matmul.allow_tf32 = True
    config = GPU_MODEL if cuda else CPU_MODEL
    batch_size = args.batch_size or (16 if cuda else 8)
    compile = cuda and not args.no_compile
    runtime = Runtime(rank=0, local_rank=0, world_size=1, device=device)

    torch.manual_seed(0)
    model = GPT(config).to(device)
    optimizer = build_optimizer(model, lr=6e-4, weight_decay=0.1, device=device)
    scheduler = build_scheduler(optimizer, warmup_steps=args.warmup, max_steps=args.warmup + args.steps)
    sampler = ShardSampler(
        open_corpus(None), rank=0, world_size=1, seq_len=config.seq_len, batch_size=batch_size, seed=0
    )
    step = TrainStep(model, optimizer, scheduler, runtime, grad_accum_steps=1, grad_clip=1.0, compile=compile)

    for _ in range(args.warmup):
        agree(runtime, step(sampler), stop=False)
    started = time.perf_counter()
    for _ in range(args.steps):
        agree(runtime, step(sampler), stop=False)
    elapsed = time.perf_counter() - started

    tokens_per_second = args.steps * batch_size * config.seq_len / elapsed
    name = torch.cuda.get_device_name(device) if cuda else "CPU"
    precision = ("bf16 autocast" + (" + torch.compile" if compile else "")) if cuda else "fp32 eager"
    print(f"device: {name}" + ("" if cuda else f", {torch.get_num_threads()} threads"))
    print(
        f"model: {config.n_layer} layers, {config.n_head} heads, {config.n_embd} wide, "
        f"{config.seq_len} context, {model.num_parameters() / 1e6:.1f}M parameters; "
        f"batch {batch_size}; {precision}"
    )
    print(f"tokens/s: {tokens_per_second:,.0f}")
    peak = peak_bf16_flops(device)
    if peak is not None:
        utilisation = mfu(tokens_per_second, config.flops_per_token(), 1, peak)
        print(f"MFU: {utilisation:.3f} (of a {peak / 1e12:.0f} TFLOP/s dense bf16 peak)")
    elif cuda:
        print("MFU: unknown (GPU not in the peak table)")


if __name__ == "__main__":
    main()
