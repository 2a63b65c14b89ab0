"""AWS GPU instance types. Figures from https://aws.amazon.com/ec2/instance-types/ (accelerated computing).

The first entry per accelerator is the default for a pool that names no instance type; tests check
every type against ``pulumi_aws.ec2.InstanceType``.
"""

from __future__ import annotations

from lepton_infra.catalog.types import Accelerator, InstanceOffering, family

_P5 = "https://aws.amazon.com/ec2/instance-types/p5/"
_P4 = "https://aws.amazon.com/ec2/instance-types/p4/"
_G6E = "https://aws.amazon.com/ec2/instance-types/g6e/"
_G6 = "https://aws.amazon.com/ec2/instance-types/g6/"
_G5 = "https://aws.amazon.com/ec2/instance-types/g5/"
_G4 = "https://aws.amazon.com/ec2/instance-types/g4/"


# (instance type, GPUs, vCPUs, memory GiB)
AWS_OFFERINGS: dict[Accelerator, tuple[InstanceOffering, ...]] = {
    Accelerator.H100: family(
        Accelerator.H100, 80, _P5, (("p5.48xlarge", 8, 192, 2048), ("p5.4xlarge", 1, 16, 256))
    ),
    Accelerator.A100_80GB: family(Accelerator.A100_80GB, 80, _P4, (("p4de.24xlarge", 8, 96, 1152),)),
    Accelerator.A100_40GB: family(Accelerator.A100_40GB, 40, _P4, (("p4d.24xlarge", 8, 96, 1152),)),
    Accelerator.L40S: family(
        Accelerator.L40S,
        48,
        _G6E,
        (
            ("g6e.xlarge", 1, 4, 32),
            ("g6e.2xlarge", 1, 8, 64),
            ("g6e.4xlarge", 1, 16, 128),
            ("g6e.12xlarge", 4, 48, 384),
            ("g6e.24xlarge", 4, 96, 768),
            ("g6e.48xlarge", 8, 192, 1536),
        ),
    ),
    Accelerator.L4: family(
        Accelerator.L4,
        24,
        _G6,
        (
            ("g6.xlarge", 1, 4, 16),
            ("g6.2xlarge", 1, 8, 32),
            ("g6.4xlarge", 1, 16, 64),
            ("g6.12xlarge", 4, 48, 192),
            ("g6.24xlarge", 4, 96, 384),
            ("g6.48xlarge", 8, 192, 768),
        ),
    ),
    Accelerator.A10G: family(
        Accelerator.A10G,
        24,
        _G5,
        (
            ("g5.xlarge", 1, 4, 16),
            ("g5.2xlarge", 1, 8, 32),
            ("g5.4xlarge", 1, 16, 64),
            ("g5.12xlarge", 4, 48, 192),
            ("g5.24xlarge", 4, 96, 384),
            ("g5.48xlarge", 8, 192, 768),
        ),
    ),
    Accelerator.T4: family(
        Accelerator.T4,
        16,
        _G4,
        (
            ("g4dn.xlarge", 1, 4, 16),
            ("g4dn.2xlarge", 1, 8, 32),
            ("g4dn.4xlarge", 1, 16, 64),
            ("g4dn.12xlarge", 4, 48, 192),
            ("g4dn.metal", 8, 96, 384),
        ),
    ),
}
