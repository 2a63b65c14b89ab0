"""Containerized PyTorch workloads: training (workloads.train) and serving (workloads.serve)."""
