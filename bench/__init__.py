"""Benchmarks that print ratios measured side by side in one run; run each as `python -m bench.<name>`."""
