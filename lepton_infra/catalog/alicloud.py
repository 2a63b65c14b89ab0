"""Alibaba Cloud GPU instance types, from ECS's "GPU-accelerated compute-optimized instance families" page.

Figures (GPUs, GPU memory, vCPUs, memory GiB) are the page's tables; each family records its section.
The first entry per accelerator is the default for a pool that names no instance type: the largest
size for training GPUs (A100), the smallest for inference GPUs (A10, T4), as in the AWS table.

Alibaba offers no H100, L40S, L4 or A10G in ECS; its L20 (gn8is) and H20 (gn8v) have no Accelerator
of ours yet. The page lists GPU memory but not the model for gn7e and gn7; both are A100 (80 GB and
40 GB), as their GPU memory and ECS's naming convention (7 = Ampere) say.
"""

from __future__ import annotations

from lepton_infra.catalog.types import Accelerator, InstanceOffering, family

_PAGE = (
    "https://www.alibabacloud.com/help/en/ecs/user-guide/"
    "gpu-accelerated-compute-optimized-and-vgpu-accelerated-instance-families-1"
)
_GN7E = f"{_PAGE}#aa0e2de67bbmb"
_GN7 = f"{_PAGE}#e698265f930a2"
_GN7I = f"{_PAGE}#f0fceb6eb6g8f"
_GN6I = f"{_PAGE}#09b66d8b1alce"


ALICLOUD_OFFERINGS: dict[Accelerator, tuple[InstanceOffering, ...]] = {
    Accelerator.A100_80GB: family(
        Accelerator.A100_80GB,
        80,
        _GN7E,
        (
            ("ecs.gn7e-c16g1.32xlarge", 8, 128, 1000),
            ("ecs.gn7e-c16g1.16xlarge", 4, 64, 500),
            ("ecs.gn7e-c16g1.8xlarge", 2, 32, 250),
            ("ecs.gn7e-c16g1.4xlarge", 1, 16, 125),
        ),
    ),
    Accelerator.A100_40GB: family(
        Accelerator.A100_40GB,
        40,
        _GN7,
        (
            ("ecs.gn7-c13g1.26xlarge", 8, 104, 756),
            ("ecs.gn7-c13g1.13xlarge", 4, 52, 378),
            ("ecs.gn7-c12g1.3xlarge", 1, 12, 94),
        ),
    ),
    Accelerator.A10: family(
        Accelerator.A10,
        24,
        _GN7I,
        (
            ("ecs.gn7i-c8g1.2xlarge", 1, 8, 30),
            ("ecs.gn7i-c16g1.4xlarge", 1, 16, 60),
            ("ecs.gn7i-c32g1.8xlarge", 1, 32, 188),
            ("ecs.gn7i-c48g1.12xlarge", 1, 48, 310),
            ("ecs.gn7i-c56g1.14xlarge", 1, 56, 346),
            ("ecs.gn7i-2x.8xlarge", 2, 32, 128),
            ("ecs.gn7i-c32g1.16xlarge", 2, 64, 376),
            ("ecs.gn7i-4x.8xlarge", 4, 32, 128),
            ("ecs.gn7i-4x.16xlarge", 4, 64, 256),
            ("ecs.gn7i-c32g1.32xlarge", 4, 128, 752),
            ("ecs.gn7i-8x.16xlarge", 8, 64, 256),
            ("ecs.gn7i-8x.32xlarge", 8, 128, 512),
        ),
    ),
    Accelerator.T4: family(
        Accelerator.T4,
        16,
        _GN6I,
        (
            ("ecs.gn6i-c4g1.xlarge", 1, 4, 15),
            ("ecs.gn6i-c8g1.2xlarge", 1, 8, 31),
            ("ecs.gn6i-c16g1.4xlarge", 1, 16, 62),
            ("ecs.gn6i-c24g1.6xlarge", 1, 24, 93),
            ("ecs.gn6i-c40g1.10xlarge", 1, 40, 155),
            ("ecs.gn6i-c24g1.12xlarge", 2, 48, 186),
            ("ecs.gn6i-c24g1.24xlarge", 4, 96, 372),
        ),
    ),
}
