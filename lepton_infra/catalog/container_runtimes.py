"""Where each Kubernetes distribution runs its containerd, as the GPU Operator's toolkit must be told.

The operator's container toolkit writes an ``nvidia`` runtime into containerd's config and signals containerd
through its socket. Its defaults are upstream containerd's (``/etc/containerd/config.toml``,
``/run/containerd/containerd.sock``); k3s, RKE2 and MicroK8s run their own containerd elsewhere, and a toolkit
left at the defaults writes a file that containerd never reads and signals a socket nobody listens on: the
operator's pods never start and no node advertises ``nvidia.com/gpu`` (NVIDIA/gpu-operator#415 on k3s, #473
on RKE2). Each distribution gets what its own documentation gives for the pinned chart:

- RKE2: the socket alone (docs.rke2.io "GPU Operators", the v25.10.x manifest): RKE2 renders its containerd
  config itself and adds the toolkit's runtime from ``/usr/local/nvidia/toolkit`` when it restarts. Pointing
  the toolkit at ``config.toml.tmpl`` instead, as older guides did, replaces RKE2's whole template.
- k3s: the same embedded containerd and socket, with the generated ``config.toml``, never its template: a
  template replaces k3s's own and drops its CNI settings (gpu-operator#473, comment of 2024-05-30); k3s
  detects the runtime at start ("Alternative Container Runtime Support" in the k3s docs).
- MicroK8s: the snap renders ``containerd.toml`` from ``args/containerd-template.toml`` at every start, so
  the toolkit edits the template, and signals the snap's socket, with the ``nvidia`` runtime class set as
  default: the values an operator maintainer gave in NVIDIA/gpu-operator#173 ("Fail to flush containerd
  config when using microk8s"), which also shows ``containerd.toml`` regenerated from the template.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

ContainerRuntime = Literal["containerd", "k3s", "rke2", "microk8s"]

# The toolkit's environment for each distribution's containerd (its CONTAINERD_* variables).
TOOLKIT_ENV: Mapping[ContainerRuntime, Mapping[str, str]] = {
    "containerd": {},
    "k3s": {
        "CONTAINERD_CONFIG": "/var/lib/rancher/k3s/agent/etc/containerd/config.toml",
        "CONTAINERD_SOCKET": "/run/k3s/containerd/containerd.sock",
    },
    "rke2": {"CONTAINERD_SOCKET": "/run/k3s/containerd/containerd.sock"},
    "microk8s": {
        "CONTAINERD_CONFIG": "/var/snap/microk8s/current/args/containerd-template.toml",
        "CONTAINERD_SOCKET": "/var/snap/microk8s/common/run/containerd.sock",
        "CONTAINERD_RUNTIME_CLASS": "nvidia",
        "CONTAINERD_SET_AS_DEFAULT": "true",
    },
}
