"""The per-customer state behind RFM and first purchase (int_customer_purchase_stats) is updated from
the day's changes: a daily run recomputes only the customers its arrivals touch, and a customer whose
only paid order is refunded leaves the state, the first purchases and mart_customer_rfm.

On the dbt fixture warehouse (tests/dbt_fixture) plus one customer, c5, whose only order is paid on
the first day and refunded on the last. After the days before the last are built, the stored row of
c3 (no order arrives for c3 on the last day) is tampered with: a run that recomputed every customer
would repair it; the daily run must leave it as it is and get the touched customers right.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ROOT
from tests.dbt_fixture.build_fixture_warehouse import PARTITIONS, build

LAST = PARTITIONS[-1]
SELECT = ["+mart_customer_rfm", "+int_customer_first_purchases"]
STATE = "intermediate.int_customer_purchase_stats"
TAMPERED_MONETARY = 999999.99


def fixture_with_refunded_customer(path: Path) -> None:
    build(path)
    first = PARTITIONS[0]
    paid_at = datetime(2025, 1, 31, 5, 0, tzinfo=UTC)
    records = [
        (first, "paid", paid_at, 1),
        (LAST, "refunded", datetime(2025, 3, 2, 6, 0, tzinfo=UTC), 99),
    ]
    with duckdb.connect(str(path)) as con:
        for partition, status, updated_at, line in records:
            con.execute(
                """INSERT INTO raw.orders (order_id, customer_id, channel_id, order_ts, amount, status,
                       updated_at, ship_region, is_referral, _partition_date, _source_file, _line_number,
                       _ingested_at)
                   VALUES ('o8', 'c5', 'ch_direct', ?, 42.00, ?, ?, 'east', false, ?, ?, ?, ?)""",
                [paid_at, status, updated_at, partition, f"orders/{partition}/extra.csv", line,
                 datetime(2025, 3, 3, 1, 0, tzinfo=UTC)],
            )


def dbt_run(warehouse: Path, window: dict | None = None) -> None:
    # build = seeds and models (the marts read seeds); the dbt tests run in test_dbt_project.py.
    args = ["dbt", "build", "--profiles-dir", "dbt", "--select", *SELECT, "--exclude-resource-type", "test",
            "--exclude-resource-type", "unit_test"]
    if window:
        args += ["--vars", json.dumps(window)]
    env = {**os.environ, "SALESMP_WAREHOUSE": str(warehouse),
           # dbt's artifacts beside the warehouse: target/ holds the manifest other processes load.
           "DBT_TARGET_PATH": str(warehouse.parent / "dbt_target"),
           "DBT_LOG_PATH": str(warehouse.parent / "dbt_target"),
           "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")}
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:]


def rows(warehouse: Path, sql: str) -> dict[str, tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {row[0]: row for row in con.execute(sql).fetchall()}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("customer_state")
    full, daily = root / "full.duckdb", root / "daily.duckdb"
    fixture_with_refunded_customer(full)
    fixture_with_refunded_customer(daily)
    dbt_run(full)
    # Every day before the last, then the tampering, then the last day alone.
    dbt_run(daily, {"max_date": LAST.isoformat()})
    with duckdb.connect(str(daily)) as con:
        con.execute(f"UPDATE {STATE} SET monetary = {TAMPERED_MONETARY} WHERE customer_id = 'c3'")
    before = rows(daily, f"SELECT * FROM {STATE}")
    dbt_run(daily, {"min_date": LAST.isoformat(), "max_date": (LAST + timedelta(days=1)).isoformat()})
    return {"full": full, "daily": daily, "before": before}


def test_before_the_refund_the_customer_was_a_buyer(runs):
    assert runs["before"]["c5"][1] == "o8"  # first_order_id


def test_untouched_customer_keeps_its_stored_row(runs):
    state = rows(runs["daily"], f"SELECT customer_id, monetary FROM {STATE}")
    assert float(state["c3"][1]) == TAMPERED_MONETARY
    # mart_customer_rfm reads the state, not the orders.
    rfm = rows(runs["daily"], "SELECT customer_id, monetary FROM marts.mart_customer_rfm")
    assert float(rfm["c3"][1]) == TAMPERED_MONETARY


def test_touched_customers_equal_a_full_build(runs):
    full = rows(runs["full"], f"SELECT * FROM {STATE}")
    daily = rows(runs["daily"], f"SELECT * FROM {STATE}")
    assert set(daily) == set(full)
    # c1 (a cancelled order), c2 (a late older record of o4) and c9 (a new buyer) got orders on the last day.
    for customer_id in ("c1", "c2", "c9"):
        assert daily[customer_id] == full[customer_id], customer_id
    assert daily["c9"][1] == "o6"
    assert daily["c3"] != full["c3"]


def test_customer_whose_only_paid_order_is_refunded_disappears(runs):
    for warehouse in (runs["daily"], runs["full"]):
        assert "c5" not in rows(warehouse, f"SELECT customer_id FROM {STATE}")
        assert "c5" not in rows(warehouse, "SELECT customer_id FROM intermediate.int_customer_first_purchases")
        assert "c5" not in rows(warehouse, "SELECT customer_id FROM marts.mart_customer_rfm")


def test_mart_customer_rfm_equals_a_full_build_for_touched_customers(runs):
    full = rows(runs["full"], "SELECT * FROM marts.mart_customer_rfm")
    daily = rows(runs["daily"], "SELECT * FROM marts.mart_customer_rfm")
    assert set(daily) == set(full)
    # as_of_date, recency_days, frequency, monetary, avg_order_value, first_purchase_date
    assert daily["c9"][1:7] == full["c9"][1:7]
    assert daily["c1"][1:7] == full["c1"][1:7]
