"""The ``lepton-operability`` pack: whether the platform a plan describes will run on a real cloud.

Its rules are plain functions over the neutral view (``policies.view``): stack rules that read the
whole plan, because every question they answer (does this pod fit that pool's nodes, does anything grow
the pool, does the cluster enforce this NetworkPolicy) joins resources. ``registry`` lists them;
``__main__`` is the pack the Pulumi CLI runs; the offline engine runs the same functions without
pulumi_policy.
"""
