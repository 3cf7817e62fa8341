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
