"""The plan summary's GPU capacity table: per site and pool, the type launched, GPUs per node, max nodes,
max GPUs and spot, as the spec and the catalog give them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lepton_infra.blueprint import PlatformSpec
from lepton_infra.catalog import Cloud
from lepton_infra.catalog.lookup import find_offering
from lepton_infra.plan.capacity import pool_capacities, render_capacity
from lepton_infra.project import PLATFORM_KEY

ROOT = Path(__file__).resolve().parents[2]


def _spec(stack: str) -> PlatformSpec:
    data = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())
    return PlatformSpec.model_validate(data["config"][PLATFORM_KEY])


@pytest.mark.parametrize("stack", ["multicloud", "aws-prod", "azure-prod", "alicloud-prod"])
def test_every_pool_of_every_site_has_its_row(stack: str) -> None:
    spec = _spec(stack)
    rows = pool_capacities(spec)
    assert [(r.site, r.pool) for r in rows] == [(s.name, p.name) for s in spec.sites for p in s.gpu_pools]
    for row, (site, pool) in zip(rows, [(s, p) for s in spec.sites for p in s.gpu_pools], strict=True):
        offering = find_offering(Cloud(site.cloud), row.instance_type or "")
        assert offering is not None and offering.accelerator == pool.accelerator
        assert row.gpus_per_node == offering.gpus
        assert row.max_gpus == offering.gpus * pool.max_nodes
        assert row.spot is pool.spot


def test_the_table_names_each_column_and_adds_up() -> None:
    spec = _spec("multicloud")
    lines = render_capacity(spec)
    header = lines[2].split()
    assert header[:3] == ["SITE", "POOL", "ACCELERATOR"] and "SPOT" in header
    rows = pool_capacities(spec)
    assert lines[-1].strip() == f"{sum(r.max_gpus or 0 for r in rows)} GPUs at most"
    spot_cells = [line.split()[-1] for line in lines[3:-1]]
    assert spot_cells == ["yes" if r.spot else "no" for r in rows]


def test_an_existing_clusters_pools_show_what_they_declare() -> None:
    rows = pool_capacities(_spec("existing-cluster"))
    assert rows and all(r.instance_type is None and r.spot is None for r in rows)
    lines = render_capacity(_spec("existing-cluster"))
    assert "(existing nodes)" in "\n".join(lines)


def test_plan_prints_the_table_in_its_summary(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from lepton_infra.cli import main

    monkeypatch.chdir(ROOT)
    main(["plan", "--stack", "aws-dev"])
    out = capsys.readouterr().out
    table = out.split("GPU capacity per site and pool", 1)[1]
    assert out.index("resources in all") < out.index("GPU capacity per site and pool")
    row = next(line.split() for line in table.splitlines() if line.strip().startswith("aws-usw2"))
    pool = _spec("aws-dev").sites[0].gpu_pools[0]
    assert row[:3] == ["aws-usw2", pool.name, pool.accelerator.value]
    assert row[5:] == [str(pool.max_nodes), str(int(row[4]) * pool.max_nodes), "yes" if pool.spot else "no"]
