"""CPU instance / VM types a site's system pool may run: general purpose, compute and memory optimised
families of the current generations, in the sizes that make sense for cluster add-ons.

A type outside these lists is refused unless the pool says ``instance_type_unlisted: true`` (a size the
list has not caught up with, or one the SDK's enum lags behind): the spec then passes it to the cloud as it
is. Sources:
- AWS: every name is checked by a test against pulumi-aws's ``ec2.InstanceType`` enum.
- Azure: "Dsv5/Ddsv5/Dasv5/Dadsv5, Dsv6/Ddsv6 sizes series" (learn.microsoft.com/azure/virtual-machines/
  sizes/general-purpose); azure-native's ``VirtualMachineSizeTypes`` enum predates them.
- Alibaba Cloud: "Instance families" (g7, g8i, c7, c8i, r7, r8i; help.aliyun.com/ecs instance-family).
"""

from __future__ import annotations

from lepton_infra.catalog.types import Cloud


def _types(families: tuple[str, ...], sizes: tuple[str, ...], pattern: str) -> frozenset[str]:
    return frozenset(pattern.format(family=f, size=s) for f in families for s in sizes)


AWS_SYSTEM_TYPES = _types(
    ("m5", "m5a", "m6i", "m6a", "m6g", "m7i", "m7a", "m7g", "m8g", "c6i", "c6a", "c7i", "c7a", "c7g", "r5",
     "r6i", "r6a", "r7i", "r7a", "r7g"),
    ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge"),
    "{family}.{size}",
) | frozenset({"t3.large", "t3.xlarge", "t3.2xlarge", "t3a.large", "t3a.xlarge", "t3a.2xlarge"})  # fmt: skip

# The size is a number inside the family's name: Standard_D8ds_v5 is the 8-vCPU Ddsv5.
AZURE_SYSTEM_TYPES = frozenset(
    f"Standard_{family.format(n=n)}"
    for family in ("D{n}s_v5", "D{n}ds_v5", "D{n}as_v5", "D{n}ads_v5", "D{n}s_v6", "D{n}ds_v6", "E{n}s_v5",
                   "E{n}ds_v5", "F{n}s_v2")
    for n in (2, 4, 8, 16, 32)
)  # fmt: skip

ALICLOUD_SYSTEM_TYPES = _types(
    ("g6", "g7", "g8i", "c6", "c7", "c8i", "r6", "r7", "r8i"),
    ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge"),
    "ecs.{family}.{size}",
)

SYSTEM_TYPES: dict[Cloud, frozenset[str]] = {
    Cloud.AWS: AWS_SYSTEM_TYPES,
    Cloud.AZURE: AZURE_SYSTEM_TYPES,
    Cloud.ALICLOUD: ALICLOUD_SYSTEM_TYPES,
}
