"""The notebooks run, cell by cell in a real kernel, against one small platform built per session;
their figures agree with direct reads of the lake; no output is committed."""

from __future__ import annotations

import functools
import json
import warnings
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import dagster
import nbformat
import polars as pl
import pytest
from nbclient import NotebookClient

from models.risk.release import Floors, release
from models.tracking import champion_version
from pipelines.assets import models as model_assets
from pipelines.definitions import FEATURES, MODELS, SERVING
from pipelines.ingest import Lake, ingest_days, landing_partitions
from pipelines.ingest.views import refresh_views
from pipelines.resources import Storage
from settings import Settings
from simulator import SimConfig, simulate

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
LAKE_TOUR = NOTEBOOK_DIR / "01_lake_tour.ipynb"  # run by its own test, which checks its figures
# As small as a platform gets with every fraud typology, feeds and a trust graph in it.
PLATFORM = SimConfig(users=300, days=10, seed=5)
# Its ~10 observed positives are under the release floor of 20; a lower floor lets the fraud
# model become the champion, so the notebooks walk the champion's path (a demo's is the same).
FLOORS = Floors(min_positives=5)


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir as `make demo` leaves it: lake, views, features, models, published scores."""
    root = tmp_path_factory.mktemp("notebook_platform")
    simulate(PLATFORM, out=root / "landing", truth_out=root / "ground_truth", progress=False)
    lake = Lake(root / "lake")
    ingest_days(root / "landing", sorted(landing_partitions(root / "landing")), lake=lake)
    refresh_views(lake, root / "warehouse.duckdb")
    day = str(PLATFORM.start + timedelta(days=PLATFORM.days))
    with pytest.MonkeyPatch.context() as patch, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        patch.delenv("VOUCH_REDIS_URL", raising=False)  # publish into the data dir's SQLite
        # Ten days are too few for the week-long label horizon, lookback and ranker windows.
        patch.setattr(model_assets, "HORIZON", timedelta(days=2))
        patch.setattr(model_assets, "EVERY", timedelta(days=1))
        patch.setattr(model_assets, "LOOKBACK", timedelta(days=6))
        patch.setattr(model_assets, "RANKER_DAYS", (4, 2, 2))
        patch.setattr(model_assets, "release", functools.partial(release, floors=FLOORS))
        storage = Storage(Settings(data_dir=root))
        for assets in (FEATURES, MODELS, SERVING):
            result = dagster.materialize(assets, resources={"storage": storage}, partition_key=day)
            assert result.success
    assert champion_version(storage.tracker, model_assets.FRAUD_MODEL) is not None
    return root


def execute(
    notebook: Path, data: Path, *, monkeypatch: pytest.MonkeyPatch, probe: str | None = None
) -> nbformat.NotebookNode:
    """Run every cell in a fresh kernel (any error fails); ``probe``, a last cell, may print."""
    nb = nbformat.read(notebook, as_version=4)
    if probe is not None:
        nb.cells.append(nbformat.v4.new_code_cell(probe))
    # The kernel inherits this process's environment: the data dir, and no Redis to read.
    monkeypatch.setenv("VOUCH_DATA_DIR", str(data))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.delenv("VOUCH_REDIS_URL", raising=False)
    client = NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": NOTEBOOK_DIR}}
    )
    client.execute()
    return nb


def printed(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


@pytest.mark.slow
@pytest.mark.parametrize(
    "notebook", [n for n in NOTEBOOKS if n != LAKE_TOUR], ids=lambda n: str(n.name)
)
def test_notebook_runs_on_a_small_platform(
    notebook: Path, platform: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nb = execute(notebook, platform, monkeypatch=monkeypatch)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors


@pytest.mark.slow
def test_lake_tour_runs_and_its_buyers_match_a_direct_read(
    platform: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    probe = "print(buyers.write_json())"
    nb = execute(LAKE_TOUR, platform, monkeypatch=monkeypatch, probe=probe)
    shown = pl.read_json(printed(nb.cells[-1]).encode())
    assert shown.height == 10
    # The same figures straight from the Parquet files, without the views or DuckDB.
    events = pl.read_parquet(platform / "lake" / "events" / "*" / "*.parquet")
    orders = (
        events.filter(pl.col("event_type") == "ORDER_PLACED")
        .group_by(buyer="actor_id")
        .agg(orders=pl.len(), spent=pl.col("payload").struct.field("amount").sum())
    )
    failed = (
        events.filter(pl.col("event_type") == "PAYMENT_FAILED")
        .group_by(buyer="actor_id")
        .agg(failed_payments=pl.len())
    )
    truth = {
        row["buyer"]: (row["orders"], Decimal(str(row["spent"])), row["failed_payments"] or 0)
        for row in orders.join(failed, on="buyer", how="left").iter_rows(named=True)
    }
    for row in shown.iter_rows(named=True):
        orders_n, spent, failed_n = truth[row["buyer"]]
        assert (row["orders"], row["failed_payments"]) == (orders_n, failed_n)
        assert Decimal(str(row["spent"])) == spent
    assert shown["failed_payments"].max() == max(t[2] for t in truth.values())


def test_notebooks_are_committed_without_outputs() -> None:
    """Outputs hold data and images: strip them before a commit with
    `.venv/bin/jupyter nbconvert --clear-output --inplace notebooks/*.ipynb`."""
    for notebook in NOTEBOOKS:
        nb = json.loads(notebook.read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, notebook.name
