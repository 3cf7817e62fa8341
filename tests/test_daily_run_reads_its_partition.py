"""A daily run reads only its own partition of raw data, at every layer.

The check is black-box: after a full build, rows of an *old* day are altered in two places a daily
run must not look at — the landing file of that day and the raw table already loaded from it. A
daily run that reads only its partition leaves both old-day changes invisible downstream; a
regression to full recompute (re-reading the landing zone, or dbt re-reading all of raw) makes
them show up in raw, the facts or the marts, and the test fails.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from dagster_project.generator import generate_landing_zone
from tests.conftest import run_salesmp, salesmp_env

START = date(2025, 3, 1)
DAYS = 30
LAST = START + timedelta(days=DAYS - 1)


@pytest.fixture(scope="module")
def daily(tmp_path_factory):
    root: Path = tmp_path_factory.mktemp("daily")
    generate_landing_zone(
        root / "landing", seed=5, start=START, days=DAYS, customers=300, orders=3_000,
        defect_rate=0.0, file_format="csv", progress=False,
    )
    env = salesmp_env(root)
    full = run_salesmp(["run", "--to", (LAST - timedelta(days=1)).isoformat()], env)
    assert full.returncode == 0, full.stdout[-3000:] + full.stderr[-3000:]

    warehouse = root / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        # An order of the first day with a single record that no later day touches.
        order_id, amount = con.execute(
            """SELECT order_id, any_value(amount) FROM raw.orders GROUP BY order_id
               HAVING count(*) = 1 AND min(_partition_date) = ? ORDER BY order_id LIMIT 1""",
            [START],
        ).fetchone()
        con.execute("UPDATE raw.orders SET amount = amount + 1000 WHERE order_id = ?", [order_id])
        before_log = con.execute(
            "SELECT feed, partition_date, _ingested_at FROM raw.ingest_log WHERE partition_date < ? ORDER BY ALL",
            [LAST],
        ).fetchall()
        fct_before = con.execute("SELECT count(*) FROM marts.fct_orders").fetchone()[0]
    # The landing file of the first day changes too (a re-delivery nobody asked to reload).
    first_day_file = sorted((root / "landing" / "orders" / START.isoformat()).glob("*.csv"))[0]
    header, first_row = first_day_file.read_text().splitlines()[:2]
    fields = first_row.split(",")
    fields[header.split(",").index("order_id")] = "ORD-NOT-RELOADED"
    with first_day_file.open("a") as fh:
        fh.write(",".join(fields) + "\n")

    result = run_salesmp(["run", "--from", LAST.isoformat(), "--to", LAST.isoformat()], env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return {
        "warehouse": warehouse, "serving": root / "serving.duckdb", "order_id": order_id,
        "amount": amount, "before_log": before_log, "fct_before": fct_before, "stdout": result.stdout,
    }


def test_older_days_are_not_reloaded_from_the_landing_zone(daily):
    with duckdb.connect(str(daily["warehouse"]), read_only=True) as con:
        after = con.execute(
            "SELECT feed, partition_date, _ingested_at FROM raw.ingest_log WHERE partition_date < ? ORDER BY ALL",
            [LAST],
        ).fetchall()
        assert after == daily["before_log"]
        assert con.execute("SELECT count(*) FROM raw.orders WHERE order_id = 'ORD-NOT-RELOADED'").fetchone()[0] == 0
        # The daily partition itself was loaded.
        assert con.execute("SELECT count(*) FROM raw.ingest_log WHERE partition_date = ?", [LAST]).fetchone()[0] > 0


def test_dbt_reads_only_the_days_arrivals(daily):
    with duckdb.connect(str(daily["warehouse"]), read_only=True) as con:
        # The old raw row was changed after the full build; an incremental run never re-reads it.
        fct_amount = con.execute(
            "SELECT amount FROM marts.fct_orders WHERE order_id = ?", [daily["order_id"]]
        ).fetchone()[0]
        assert fct_amount == daily["amount"]
        raw_amount = con.execute("SELECT amount FROM raw.orders WHERE order_id = ?", [daily["order_id"]]).fetchone()[0]
        assert raw_amount == daily["amount"] + 1000
        # ... while the day's own arrivals did reach the facts.
        new_orders = con.execute(
            """SELECT count(DISTINCT order_id) FROM raw.orders WHERE _partition_date = ?
               AND order_id NOT IN (SELECT order_id FROM raw.orders WHERE _partition_date < ?)""",
            [LAST, LAST],
        ).fetchone()[0]
        assert new_orders > 0
        fct_after = con.execute("SELECT count(*) FROM marts.fct_orders").fetchone()[0]
        assert fct_after == daily["fct_before"] + new_orders
        # The customer's RFM monetary is built from the facts, so it does not see the change either.
        customer_id = con.execute(
            "SELECT customer_id FROM marts.fct_orders WHERE order_id = ?", [daily["order_id"]]
        ).fetchone()[0]
        expected = con.execute(
            """SELECT sum(amount) FROM marts.fct_orders WHERE customer_id = ? AND is_paid
               AND order_date <= (SELECT max(as_of_date) FROM marts.mart_customer_rfm)""",
            [customer_id],
        ).fetchone()[0]
        monetary = con.execute(
            "SELECT monetary FROM marts.mart_customer_rfm WHERE customer_id = ?", [customer_id]
        ).fetchone()
        if expected is not None:
            assert monetary is not None and monetary[0] == expected


@pytest.fixture(scope="module")
def rerun_old_day(daily):
    """After the daily run: a late file lands in an old day's folder and that day alone is run again,
    as the README advises and as landing_zone_sensor requests for a changed old folder. Requested
    after the tests above (they read the state the daily run left)."""
    warehouse: Path = daily["warehouse"]
    old_day = START + timedelta(days=5)
    queries = {
        "rfm": "SELECT count(*), max(as_of_date) FROM marts.mart_customer_rfm",
        "history": "SELECT count(*), count(DISTINCT as_of_date) FROM marts.mart_customer_rfm_history",
        "churn": "SELECT count(*) FROM marts.mart_churn_warning",
        "fct": "SELECT count(*) FROM marts.fct_orders",
    }
    with duckdb.connect(str(warehouse), read_only=True) as con:
        before = {k: con.execute(q).fetchone() for k, q in queries.items()}
    day_file = sorted((warehouse.parent / "landing" / "orders" / old_day.isoformat()).glob("*.csv"))[0]
    header, row = day_file.read_text().splitlines()[:2]
    fields = row.split(",")
    fields[header.split(",").index("order_id")] = "ORD-LATE-OLD-DAY"
    (day_file.parent / "orders_late.csv").write_text(header + "\n" + ",".join(fields) + "\n")
    day = old_day.isoformat()
    result = run_salesmp(["run", "--from", day, "--to", day], salesmp_env(warehouse.parent))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        after = {k: con.execute(q).fetchone() for k, q in queries.items()}
        late = con.execute("SELECT count(*) FROM marts.fct_orders WHERE order_id = 'ORD-LATE-OLD-DAY'").fetchone()[0]
    serving = duckdb.connect(str(daily["serving"]), read_only=True)
    try:
        published_history = serving.execute("SELECT count(*) FROM mart_customer_rfm_history").fetchone()[0]
    finally:
        serving.close()
    return {"result": result, "before": before, "after": after, "late": late,
            "published_history": published_history}


def test_rerunning_an_old_day_keeps_the_marts_as_of_the_latest_day(rerun_old_day):
    """The rerun succeeds, loads the late order, and neither rewinds the marts to the old day nor
    deletes the later month snapshots of mart_customer_rfm_history (it did: the as-of gate failed
    and the next daily run published the history empty)."""
    result = rerun_old_day["result"]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    before, after = rerun_old_day["before"], rerun_old_day["after"]
    assert rerun_old_day["late"] == 1
    assert after["fct"] == (before["fct"][0] + 1,)
    assert after["rfm"][1] == before["rfm"][1] == LAST  # still as of the latest arrival
    assert after["rfm"][0] >= before["rfm"][0]
    assert after["history"] == before["history"]  # every month-end snapshot kept
    assert (after["churn"][0] > 0) == (before["churn"][0] > 0)
    assert rerun_old_day["published_history"] == after["history"][0]
