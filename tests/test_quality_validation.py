"""The raw-feed suites on hand-written landing zones: which check fires, with which severity and numbers.

Fast: the real loader writes a DuckDB file, the suites are validated directly (no Dagster run). The
end-to-end runs through `salesmp run` are in test_quality_end_to_end.py.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from dagster_project.ingest.feeds import FEEDS
from dagster_project.ingest.loader import ensure_raw_schema, ingest_partition
from dagster_project.quality import batches
from dagster_project.quality.suites import load_suites
from dagster_project.quality.validation import check_outcomes, validate_suite
from tests import quality_landing as ql

SUITES = {s.name: s for s in load_suites()}
RAW_SUITES = [s for s in SUITES.values() if s.name.startswith("raw_")]
DAYS = 24
BAD = date(2025, 3, 20)  # day 20 of 24: enough history before it for every trailing figure


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    con.execute("SET TimeZone = 'Asia/Shanghai'")
    return con


def _ingest(con, root: Path, days, feeds=FEEDS) -> None:
    ensure_raw_schema(con)
    for feed in feeds:
        for day in days:
            ingest_partition(con, root, feed, day, datetime(2025, 4, 1, tzinfo=UTC))


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """A clean landing zone of 24 days and its warehouse (built once)."""
    base = tmp_path_factory.mktemp("clean")
    days = ql.write_landing(base / "landing", days=DAYS)
    con = _connect(base / "warehouse.duckdb")
    _ingest(con, base / "landing", days)
    con.close()
    return base, days


def _failures(con, days) -> dict[tuple[str, str], str]:
    """(asset, check) -> severity of every failing raw-feed check."""
    failed = {}
    for suite in RAW_SUITES:
        for outcome in check_outcomes(suite, validate_suite(con, suite, days), days):
            if not outcome.passed:
                failed[(outcome.asset, outcome.check)] = outcome.severity
    return failed


def _broken(clean, tmp_path, breakage, feed):
    """A copy of the clean warehouse whose BAD day of `feed` is reloaded from a broken landing day."""
    base, days = clean
    shutil.copytree(base / "landing", tmp_path / "landing")
    shutil.copy(base / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    breakage(tmp_path / "landing", BAD)
    con = _connect(tmp_path / "warehouse.duckdb")
    _ingest(con, tmp_path / "landing", [BAD], [feed])
    return con


def test_clean_days_pass_every_raw_suite(clean):
    base, days = clean
    con = _connect(base / "warehouse.duckdb")
    try:
        assert _failures(con, days) == {}
    finally:
        con.close()


# case -> (breakage, feed rewritten, the checks that fire with their severity)
CASES = {
    "empty day": (ql.empty_day, "orders", {("raw/orders", "volume"): "WARN"}),
    "a third of the usual orders": (ql.third_of_orders, "orders", {("raw/orders", "volume"): "WARN"}),
    "amounts x100": (ql.amounts_times_100, "orders", {("raw/orders", "order_value"): "ERROR"}),
    "channel master loses half": (
        ql.channel_master_loses_half,
        "channels",
        {("raw/channels", "snapshot_size"): "ERROR"},
    ),
    "every score 10": (ql.all_scores_ten, "surveys", {("raw/surveys", "score_distribution"): "ERROR"}),
    "a third on unknown channels": (
        ql.third_on_unknown_channels,
        "orders",
        {("raw/orders", "unknown_channels"): "ERROR"},
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_whole_feed_failure_fires_its_check(clean, tmp_path, case):
    breakage, feed, expected = CASES[case]
    con = _broken(clean, tmp_path, breakage, feed)
    try:
        assert _failures(con, [BAD]) == expected
    finally:
        con.close()


def test_schema_drift_blocks_a_small_delivery_but_not_a_stray_file(clean, tmp_path):
    """A company that sends 3 orders a day in one file is blocked by a renamed column like a large one;
    a stray 2-line file beside the day's real delivery is left to the quarantine check."""
    con = _broken(clean, tmp_path / "small", ql.renamed_amount_small_day, "orders")
    try:
        assert _failures(con, [BAD]).get(("raw/orders", "schema_drift")) == "ERROR"
    finally:
        con.close()
    con = _broken(clean, tmp_path / "stray", ql.stray_file_without_amount, "orders")
    try:
        assert ("raw/orders", "schema_drift") not in _failures(con, [BAD])
        stray = con.execute(
            "SELECT count(*) FROM raw.quarantine WHERE reason_code = 'missing_column' AND source_file LIKE '%stray%'"
        ).fetchone()[0]
        assert stray == 2  # quarantined, not dropped
    finally:
        con.close()


def test_failure_names_check_asset_day_and_numbers(clean, tmp_path):
    con = _broken(clean, tmp_path, ql.amounts_times_100, "orders")
    try:
        days = [date(2025, 3, 18), date(2025, 3, 19), BAD, date(2025, 3, 21)]
        outcomes = check_outcomes(SUITES["raw_orders"], validate_suite(con, SUITES["raw_orders"], days), days)
    finally:
        con.close()
    [failed] = [o for o in outcomes if not o.passed]
    assert (failed.check, failed.severity, failed.blocking) == ("order_value", "ERROR", True)
    text = failed.summary
    assert text.startswith("Check order_value on raw/orders failed (ERROR): ")
    assert "2025-03-20: median_amount_deviation_vs_band = " in text
    ratio = float(text.split("median_amount_vs_trailing_median ")[1].split(",")[0])
    assert 80 < ratio < 120  # x100, give or take the day's own spread
    # reported per day: only the broken day, with its row as the sample
    for o in failed.failed:
        assert set(o.unexpected_by_day) == {"2025-03-20"}
        assert o.samples[0]["day"] == "2025-03-20"


def test_row_level_failures_count_per_day_with_sample_rows(clean, tmp_path, monkeypatch):
    """Row expectations on a backfill: counts per arrival day, sample rows with their lineage.

    This is also the test of the pandas route: Great Expectations' SQL route over duckdb-engine
    returns wrong results on our versions, so the numbers here are checked exactly.
    """
    base, days = clean
    shutil.copy(base / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    con = _connect(tmp_path / "warehouse.duckdb")
    try:
        # Bypass the loader (which would quarantine them): 3 bad statuses on one day, 2 on another,
        # and one repeated line (a double load).
        con.execute(
            "UPDATE raw.orders SET status = 'shipped' WHERE order_id IN ('O000061', 'O000062', 'O000063')"
        )
        con.execute("UPDATE raw.orders SET status = 'lost' WHERE order_id IN ('O000181', 'O000182')")
        con.execute("INSERT INTO raw.orders SELECT * FROM raw.orders WHERE order_id = 'O000200'")
        # Frames of at most 130 rows (two days), so the run's four days take two frames.
        monkeypatch.setattr(batches, "ROWS_PER_FRAME", 130)
        run = [date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3), date(2025, 3, 4)]
        outcomes = {
            o.check: o
            for o in check_outcomes(SUITES["raw_orders"], validate_suite(con, SUITES["raw_orders"], run), run)
        }
    finally:
        con.close()
    values, keys = outcomes["values"], outcomes["keys"]
    [status] = [o for o in values.failed if o.column == "status"]
    assert status.unexpected == 5
    assert status.evaluated == 4 * 60 + 1
    assert dict(status.unexpected_by_day) == {"2025-03-02": 3, "2025-03-04": 2}
    assert {s["order_id"] for s in status.samples} == {"O000061", "O000062", "O000063", "O000181", "O000182"}
    assert all(s["_source_file"].startswith("orders/") and s["_line_number"] > 1 for s in status.samples)
    [dupes] = keys.failed
    assert dupes.type == "expect_compound_columns_to_be_unique"
    assert dupes.unexpected == 2 and dict(dupes.unexpected_by_day) == {"2025-03-04": 2}
    assert values.severity == keys.severity == "ERROR"
    assert "5 of 241 rows on 2 day(s) (2025-03-02 .. 2025-03-04)" in values.summary


def test_history_checks_wait_for_enough_history(clean):
    """The first days of a fresh warehouse have no trailing figures: nothing to compare, nothing fires."""
    base, days = clean
    con = _connect(base / "warehouse.duckdb")
    try:
        volume = next(
            batches.frames(con, SUITES["raw_orders"], SUITES["raw_orders"].batches["volume"], days[:3])
        )
        assert volume.df["rows_vs_trailing_7d_mean"].isna().all()
        daily = next(
            batches.frames(con, SUITES["raw_orders"], SUITES["raw_orders"].batches["daily"], days[:8])
        )
        assert daily.df["median_amount_deviation_vs_band"].isna().sum() == 7
    finally:
        con.close()


def test_split_mart_is_validated_in_frames_of_whole_months(tmp_path, monkeypatch):
    """mart_customer_rfm_history's rows come in frames of whole months (split_by: month), at most
    ROWS_PER_FRAME rows each, so a long history never sits in memory at once; a key repeated
    within a month of a later frame is still found, and every row is evaluated once."""
    suite = SUITES["mart_customer_rfm_history"]
    assert suite.batches["rows"].split_by == "month"
    con = _connect(tmp_path / "w.duckdb")
    con.execute("CREATE SCHEMA marts")
    con.execute(
        """CREATE TABLE marts.mart_customer_rfm_history AS
        SELECT CAST(m AS DATE) AS month, 'c' || i AS customer_id, CAST(m AS DATE) + 27 AS as_of_date,
               1::BIGINT AS recency_days, 1::BIGINT AS frequency, 10.00::DECIMAL(18,2) AS monetary,
               10.00::DECIMAL(18,2) AS avg_order_value, DATE '2024-01-01' AS first_purchase_date,
               DATE '2024-01-01' AS last_purchase_date, 0::BIGINT AS repeat_frequency,
               0::BIGINT AS recency_btyd, 1::BIGINT AS t_days, 0.00::DECIMAL(18,2) AS repeat_monetary_avg,
               3::BIGINT AS r_score, 3::BIGINT AS f_score, 3::BIGINT AS m_score, 3::BIGINT AS fm_score,
               'Need Attention' AS rfm_segment, 'potential' AS customer_tier,
               10.00::DECIMAL(18,2) AS revenue_365d
        FROM (VALUES ('2025-01-01'), ('2025-02-01'), ('2025-03-01'), ('2025-04-01')) AS months(m),
             range(30) AS r(i)"""
    )
    # one repeated key in March: (2025-03-01, c7) twice
    con.execute(
        "INSERT INTO marts.mart_customer_rfm_history SELECT * FROM marts.mart_customer_rfm_history "
        "WHERE month = DATE '2025-03-01' AND customer_id = 'c7'"
    )
    monkeypatch.setattr(batches, "ROWS_PER_FRAME", 65)  # two months of 30 rows per frame
    days = [date(2025, 1, 1), date(2025, 4, 30)]
    frames = list(batches.frames(con, suite, suite.batches["rows"], days))
    assert [f.label for f in frames] == ["month 2025-01-01..2025-02-01", "month 2025-03-01..2025-04-01"]
    assert [len(f.df) for f in frames] == [60, 61]
    outcomes = {o.type: o for o in validate_suite(con, suite, days) if o.batch == "rows"}
    unique = outcomes["expect_compound_columns_to_be_unique"]
    assert not unique.success and unique.failed_frames == ["month 2025-03-01..2025-04-01"]
    assert unique.evaluated == 121
    con.close()
