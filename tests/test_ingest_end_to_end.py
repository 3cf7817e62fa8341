"""Generator -> Dagster raw assets -> DuckDB, checked against the generator's ground truth."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.generator import generate_landing_zone
from dagster_project.ingest.assets import raw_assets
from dagster_project.ingest.feeds import FEEDS
from dagster_project.ingest.sensors import range_tags
from dagster_project.resources import DuckDBWarehouse

START = date(2025, 1, 1)
DAYS = 21


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    landing = root / "landing"
    truth = generate_landing_zone(
        landing, seed=7, start=START, days=DAYS, customers=800, orders=12_000,
        defect_rate=0.01, file_format="mixed", progress=False,
    )
    warehouse = root / "warehouse.duckdb"
    mp = pytest.MonkeyPatch()
    mp.setenv("SALESMP_LANDING", str(landing))
    last = sorted({d for feed in truth["feeds"].values() for d in feed})[-1]
    result = dg.materialize(
        raw_assets,
        resources={"warehouse": DuckDBWarehouse(path=str(warehouse))},
        tags=range_tags(START.isoformat(), last),
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    yield {"truth": truth, "warehouse": warehouse, "landing": landing, "result": result, "last": last}
    mp.undo()


def _query(path: Path, sql: str, params=None):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_ground_truth_file_written(loaded):
    on_disk = json.loads((loaded["landing"] / "_ground_truth.json").read_text())
    assert on_disk["feeds"].keys() == set(FEEDS)


def test_rows_read_equal_rows_written_per_feed_and_day(loaded):
    got = {
        (feed, d.isoformat()): (read, ok, bad)
        for feed, d, read, ok, bad in _query(
            loaded["warehouse"],
            "SELECT feed, partition_date, sum(rows_read), sum(rows_loaded), sum(rows_quarantined) "
            "FROM raw.ingest_log GROUP BY ALL",
        )
    }
    for feed, days in loaded["truth"]["feeds"].items():
        for day, t in days.items():
            read, ok, bad = got[(feed, day)]
            assert read == t["rows_written"], (feed, day)
            assert read == ok + bad
            assert bad == sum(t["defects"].values()), (feed, day, t["defects"])
    # and the raw tables hold exactly what the log says
    for feed in FEEDS:
        [(n,)] = _query(loaded["warehouse"], f"SELECT count(*) FROM raw.{feed}")
        assert n == sum(ok for (f, _), (_, ok, _) in got.items() if f == feed)


def test_each_defect_kind_lands_with_its_reason_code(loaded):
    got: dict = defaultdict(int)
    for feed, d, code, n in _query(
        loaded["warehouse"],
        "SELECT feed, partition_date, reason_code, count(*) FROM raw.quarantine GROUP BY ALL",
    ):
        got[(feed, d.isoformat(), code)] = n
    expected: dict = defaultdict(int)
    kinds = set()
    for feed, days in loaded["truth"]["feeds"].items():
        for day, t in days.items():
            for code, n in t["defects"].items():
                if n:
                    expected[(feed, day, code)] = n
                    kinds.add(code)
    assert dict(got) == dict(expected)
    # the small landing zone exercises every reason code the generator can inject
    assert {"bad_timestamp", "bad_number", "out_of_range", "bad_enum", "missing_value", "duplicate_row",
            "conflicting_key", "bad_encoding", "malformed_line"} <= kinds


def test_materialization_metadata_balances(loaded):
    events = [e for e in loaded["result"].get_asset_materialization_events() if e.asset_key.path[0] == "raw"]
    assert events
    for event in events:  # the raw loads (landing/<feed> deliveries carry no row counts of their own)
        md = event.materialization.metadata
        assert md["rows_read"].value == md["rows_loaded"].value + md["rows_quarantined"].value


def test_rematerializing_a_partition_changes_nothing(loaded):
    day = (START.replace(day=5)).isoformat()
    tables = [*(f"raw.{f}" for f in FEEDS), "raw.quarantine", "raw.ingest_log"]

    def snapshot():
        out = {}
        con = duckdb.connect(str(loaded["warehouse"]), read_only=True)
        for t in tables:
            cols = [c for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema='raw' "
                "AND table_name=? AND column_name <> '_ingested_at' ORDER BY ordinal_position",
                [t.split(".")[1]],
            ).fetchall()]
            out[t] = con.execute(f"SELECT {', '.join(cols)} FROM {t} ORDER BY ALL").fetchall()
        con.close()
        return out

    before = snapshot()
    result = dg.materialize(
        raw_assets,
        resources={"warehouse": DuckDBWarehouse(path=str(loaded["warehouse"]))},
        partition_key=day,
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    assert snapshot() == before
    [(n,)] = _query(loaded["warehouse"], "SELECT count(DISTINCT _ingested_at) FROM raw.orders")
    assert n == 2  # the partition really was reloaded, with a new _ingested_at
    assert datetime.now(UTC).year >= 2025
