"""Elastic Fabric Adapter (EFA) interfaces per AWS GPU instance type: what multi-node training can use.

``vpc.amazonaws.com/efa`` is the number of EFA devices a node of the type advertises (the EC2 API's
``NetworkInfo.EfaInfo.MaximumEfaInterfaces``), one per network card on every type listed here. Figures from
Karpenter v1.14's generated instance-type reference, which reads ``DescribeInstanceTypes``
(aws/karpenter-provider-aws ``website/content/en/v1.14/reference/instance-types.md``); check a type with
``aws ec2 describe-instance-types --instance-types T --query 'InstanceTypes[].NetworkInfo.EfaInfo'``.
Types of the catalog that are absent have no EFA (g6.xlarge ... g6.4xlarge and their siblings).
"""

from __future__ import annotations

SOURCE = (
    "https://github.com/aws/karpenter-provider-aws/blob/v1.14.1/website/content/en/v1.14/reference/"
    "instance-types.md"
)

EFA_INTERFACES: dict[str, int] = {
    "p5.48xlarge": 32,
    "p5.4xlarge": 1,
    "p4d.24xlarge": 4,
    "p4de.24xlarge": 4,
    "g6e.12xlarge": 1,
    "g6e.24xlarge": 2,
    "g6e.48xlarge": 4,
    "g6.12xlarge": 1,
    "g6.24xlarge": 1,
    "g6.48xlarge": 1,
    "g5.12xlarge": 1,
    "g5.24xlarge": 1,
    "g5.48xlarge": 1,
    "g4dn.12xlarge": 1,
    "g4dn.metal": 1,
}


def efa_interfaces(instance_type: str) -> int:
    """EFA devices one node of ``instance_type`` has (0: none, so NCCL would run over TCP)."""
    return EFA_INTERFACES.get(instance_type, 0)
