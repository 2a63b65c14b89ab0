"""A platform config with MultiKueue: a manager site and a worker, both existing clusters."""

from __future__ import annotations

import copy
from typing import Any

from plan_helpers import stack_config

Config = dict[str, Any]
WORKER_URL = "https://gpu-a.k8s.example.internal:6443"
BUCKET = "s3://lepton-shared-artifacts"


def two_sites() -> Config:
    """The existing-cluster stack as a manager (`hub`, no GPUs) and a worker (`gpu-a`, its GPU pools)."""
    config = copy.deepcopy(stack_config("existing-cluster"))
    worker = config["sites"][0] | {"name": "gpu-a", "artifact_bucket_uri": BUCKET}
    manager = worker | {"name": "hub", "gpu_pools": [], "kubeconfig": {"path": "kubeconfigs/hub.yaml"}}
    config["sites"] = [manager, worker]
    pretrain, serve = config["workloads"]
    pretrain.update(sites=["gpu-a"], placement="any", checkpoint={"kind": "bucket"})
    serve.update(sites=["gpu-a"], checkpoint={"kind": "bucket", "prefix": "checkpoints/pretrain"})
    for team in config["teams"]:
        for quota in team["quotas"]:
            quota["site"] = "gpu-a"
    config["queueing"] = {
        "multikueue": {"manager": "hub", "workers": [{"site": "gpu-a", "api_server_url": WORKER_URL}]}
    }
    return config
