"""The training workload: ``python -m workloads.train`` alone, or under ``torchrun`` for data parallelism.

Modules, one job each: ``config`` (flags and files), ``corpus`` and ``data`` (what is read, in which
order), ``distributed`` (process group), ``optim`` (AdamW and schedule), ``state`` (checkpoint contents),
``signals`` (SIGTERM), ``progress`` and ``throughput`` (logs, metrics, MFU), ``checkpointing`` (resume,
save, and what all ranks do when the checkpoint store fails), ``loop`` (the run),
``cli`` (exit codes) and ``launch`` (torchrun with SIGTERM as a clean stop).
"""
