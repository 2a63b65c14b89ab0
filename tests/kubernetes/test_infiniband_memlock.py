"""InfiniBand pods on AKS need an unlimited locked-memory limit that only the node can give: the plan says
so, the pods stay Pod Security "restricted", and the fabric carries no capability nothing applies.

``Fabric.capabilities`` held ``IPC_LOCK`` for the InfiniBand fabric and was never applied. Applying it
would be wrong twice: PSA "restricted" refuses any added capability but NET_BIND_SERVICE
(https://kubernetes.io/docs/concepts/security/pod-security-standards/), and a non-root container never gets
an added capability in its effective set (kubernetes/kubernetes#56374; NVIDIA/nvidia-container-toolkit#2037
measured CapEff 0 and `ulimit -l` 8192 KB for uid 1000 with IPC_LOCK added). The limit comes from
containerd's LimitMEMLOCK (kubesphere/kubekey#2609), and AKS's custom node configuration (linuxOSConfig:
sysctls, transparent huge pages, swap file; https://learn.microsoft.com/azure/aks/custom-node-configuration)
cannot set it.
"""

from __future__ import annotations

import copy
import dataclasses

from manifest_helpers import Manifests, main_container
from plan_helpers import stack_config, whole_plan

from lepton_infra.blueprint import PlatformSpec
from lepton_infra.blueprint.advice import advice
from lepton_infra.components.handle import Fabric


def test_every_infiniband_pool_gets_the_node_memlock_advice() -> None:
    found = dict(advice(PlatformSpec.model_validate(stack_config("azure-prod"))))
    sentence = found["sites[0].gpu_pools[0].infiniband"]
    assert "LimitMEMLOCK=infinity" in sentence and "ulimit -l" in sentence and "'h100'" in sentence


def test_a_pool_without_infiniband_gets_no_memlock_advice() -> None:
    config = copy.deepcopy(stack_config("azure-prod"))
    for pool in config["sites"][0]["gpu_pools"]:
        pool["infiniband"] = False
    assert not [s for _, s in advice(PlatformSpec.model_validate(config)) if "LimitMEMLOCK" in s]


def test_infiniband_training_pods_add_no_capability_and_stay_restricted() -> None:
    manifests = Manifests(whole_plan("azure-prod"))
    job = manifests.one("Job", "pretrain")
    container = main_container(job)
    assert container["resources"]["requests"]["rdma/shared_ib"] == "1"  # it is on the fabric
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    namespace = manifests.one("Namespace", job["metadata"]["namespace"])
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_a_fabric_describes_no_capability() -> None:
    # Nothing would apply it, and nothing could: see the module docstring.
    assert "capabilities" not in {f.name for f in dataclasses.fields(Fabric)}
