"""The plan's GPU capacity per site and pool: instance type, GPUs per node, max nodes, max GPUs, spot.

Read from the spec the plan was made from, with the catalog's type for a pool that names none (the type
the site's builder launches, ``catalog.pool_offering``). A pool of an existing cluster has no type we
launch: it shows the GPUs per node and nodes it declares. What a reviewer asks of a pull request that
touches ``gpu_pools``: how many GPUs, of which kind, at most, and whether they can be taken back.
"""

from __future__ import annotations

from dataclasses import dataclass

from lepton_infra.blueprint import PlatformSpec
from lepton_infra.blueprint.site_existing import ExistingSiteSpec
from lepton_infra.catalog import Cloud, pool_offering

HEADER = ("SITE", "POOL", "ACCELERATOR", "INSTANCE TYPE", "GPUS/NODE", "MAX NODES", "MAX GPUS", "SPOT")
# Numbers right-aligned, names left-aligned.
_NUMERIC = {4, 5, 6}


@dataclass(frozen=True)
class PoolCapacity:
    site: str
    pool: str
    accelerator: str
    instance_type: str | None  # None: an existing cluster's nodes, or a type the catalog lacks
    gpus_per_node: int | None
    max_nodes: int | None
    spot: bool | None  # None: an existing cluster's nodes, whose purchase option we do not know

    @property
    def max_gpus(self) -> int | None:
        if self.gpus_per_node is None or self.max_nodes is None:
            return None
        return self.gpus_per_node * self.max_nodes


def pool_capacities(spec: PlatformSpec) -> list[PoolCapacity]:
    """Every GPU pool of every site, in the spec's order."""
    rows: list[PoolCapacity] = []
    for site in spec.sites:
        if isinstance(site, ExistingSiteSpec):
            rows += [
                PoolCapacity(site.name, p.name, p.accelerator.value, None, p.gpus_per_node, p.max_nodes, None)
                for p in site.gpu_pools
            ]
            continue
        for pool in site.gpu_pools:
            try:
                offering = pool_offering(Cloud(site.cloud), site.region, pool.accelerator, pool.instance_type)
            except LookupError:
                offering = None
            rows.append(
                PoolCapacity(
                    site.name,
                    pool.name,
                    pool.accelerator.value,
                    offering.instance_type if offering else pool.instance_type,
                    offering.gpus if offering else None,
                    pool.max_nodes,
                    pool.spot,
                )
            )
    return rows


def render_capacity(spec: PlatformSpec) -> list[str]:
    """The table as lines for the plan summary (none when no site has a GPU pool)."""
    rows = pool_capacities(spec)
    if not rows:
        return []
    cells = [HEADER] + [
        (
            r.site,
            r.pool,
            r.accelerator,
            r.instance_type or "(existing nodes)",
            _number(r.gpus_per_node),
            _number(r.max_nodes),
            _number(r.max_gpus),
            {True: "yes", False: "no", None: "-"}[r.spot],
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(HEADER))]
    lines = ["", "GPU capacity per site and pool (at max nodes):"]
    for row in cells:
        columns = (
            cell.rjust(width) if i in _NUMERIC else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        lines.append("  " + "  ".join(columns).rstrip())
    known = [r.max_gpus for r in rows if r.max_gpus is not None]
    unknown = len(rows) - len(known)
    if not known:
        lines.append("  no pool states its maximum")
    else:
        unstated = f", plus {unknown} pool(s) with no stated maximum" if unknown else ""
        lines.append(f"  {sum(known)} GPUs at most{unstated}")
    return lines


def _number(value: int | None) -> str:
    return "?" if value is None else str(value)
