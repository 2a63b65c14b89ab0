"""OpenAI-compatible serving of ``workloads.model.GPT`` with continuous batching.

Module map: ``settings`` (flags), ``schemas`` (wire format), ``errors`` (OpenAI error bodies),
``decoder`` (KV-cached forward), ``sampling``, ``text`` (bytes to text, stop sequences),
``engine`` (the batching thread), ``watcher`` (which checkpoint to serve, waiting for the first),
``metrics`` and ``middleware`` (Prometheus), ``completions`` and ``app`` (HTTP), ``protocol`` (bounds
on slow clients), ``signals`` and ``server`` (process lifecycle and SIGTERM draining).
"""
