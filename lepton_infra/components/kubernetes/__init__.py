"""The cloud-neutral Kubernetes layer: components that take a ClusterHandle and a workload spec.

Nothing here knows which cloud a site is on. Import the module you need (``training_job``,
``inference_service`` ...); this package imports none of them, so the handle can import from it cheaply.
"""
