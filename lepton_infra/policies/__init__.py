"""Compliance policies: importable rule modules, a registry, and the pack entry point (``__main__``).

Nothing here starts the analyzer server: ``pulumi_policy.PolicyPack`` blocks, so only ``__main__`` builds it.
"""
