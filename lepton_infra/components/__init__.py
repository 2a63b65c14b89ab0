"""Pulumi component resources: one package per cloud, plus the cloud-neutral Kubernetes layer."""
