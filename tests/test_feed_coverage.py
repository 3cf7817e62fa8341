"""A company that delivers only some of the eight feeds: the marts it can have are published, the
others are published empty, and the serving database says which feeds were delivered and why a mart
is empty (`feed_coverage`, `mart_status`). Real `salesmp run`s on zones written here by hand."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from dagster_project.ingest.feeds import FEEDS
from tests.conftest import run_salesmp, salesmp_env
from tests.test_gates_evidence import _write, poisson, write_zone

START = date(2025, 5, 5)
DAYS = 12


def _query(serving: Path, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(serving), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _lines(landing: Path, feed: str) -> tuple[int, int]:
    """(day folders with a file, data lines) of a feed, counted from the files themselves."""
    days = lines = 0
    for folder in sorted((landing / feed).glob("????-??-??")):
        try:
            date.fromisoformat(folder.name)
        except ValueError:  # 2025-02-30 is not a day: not read, reported
            continue
        files = list(folder.glob("*.csv"))
        days += bool(files)
        for f in files:
            with f.open(encoding="utf-8", newline="") as fh:
                lines += sum(1 for _ in csv.reader(fh)) - 1
    return days, lines


@pytest.fixture(scope="module")
def orders_only(tmp_path_factory):
    root = tmp_path_factory.mktemp("orders_only")
    write_zone(root / "landing", START, DAYS, poisson(40), customers=120)
    # what a real landing zone also holds: a misspelt feed, a compact date, an impossible date
    for bad in ("order/2025-05-06", "orders/20250506", "orders/2025-02-30"):
        (root / "landing" / bad).mkdir(parents=True)
        (root / "landing" / bad / "orders.csv").write_text("order_id\n")
    env = salesmp_env(root)
    result = run_salesmp(["run"], env)
    return root, env, result


def test_orders_and_customers_alone_publish_the_customer_marts(orders_only):
    root, env, result = orders_only
    assert result.returncode == 0, result.stderr[-3000:]
    serving = root / "serving.duckdb"
    for mart in ("mart_customer_rfm", "mart_customer_tiers", "fct_orders"):
        assert _query(serving, f"SELECT count(*) FROM {mart}")[0][0] > 0, mart
    assert _query(serving, "SELECT count(*) FROM mart_nps") == [(0,)]
    status = dict((m, (s, lacking)) for m, s, lacking in
                  _query(serving, "SELECT mart, status, feeds_lacking FROM mart_status"))
    # mart_nps is made of the survey answers (the customer's tier only enriches them): surveys lack
    assert status["mart_nps"] == ("empty_no_input", "surveys")
    assert status["mart_complaint_sla_monthly"] == ("empty_no_input", "complaints")
    assert status["mart_customer_rfm"] == ("built", "")
    marts = run_salesmp(["marts", "--rows", "1"], env)
    [line] = [x for x in marts.stdout.splitlines() if x.startswith("mart_nps (")]
    assert line.startswith("mart_nps (0 rows: no survey feed delivered)")


def test_reports_say_which_feed_was_not_delivered(orders_only):
    root, _, result = orders_only
    assert result.returncode == 0
    month = root / "site" / "reports" / f"{START:%Y-%m}"
    customer = (month / "customer_value.en.html").read_text(encoding="utf-8")
    channel = (month / "channel_efficiency.en.html").read_text(encoding="utf-8")
    # Orders and customers were delivered: their charts are drawn, the survey and lead charts say why not.
    assert "No survey feed delivered, so this chart is empty" in customer
    assert "No order feed delivered" not in customer and 'id="customer-rfm_segments"' in customer
    assert "No lead feed delivered, so this chart is empty" in channel
    assert "No complaint feed delivered, so this chart is empty" in channel
    # The Chinese pages (the default <name>.html) say the same.
    zh_customer = (month / "customer_value.html").read_text(encoding="utf-8")
    assert zh_customer == (month / "customer_value.zh.html").read_text(encoding="utf-8")
    assert "问卷数据源从未交付任何行，因此此图为空" in zh_customer and 'id="customer-rfm_segments"' in zh_customer
    zh_channel = (month / "channel_efficiency.zh.html").read_text(encoding="utf-8")
    assert "线索数据源从未交付任何行" in zh_channel and "投诉数据源从未交付任何行" in zh_channel


def test_folders_the_loader_does_not_read_are_reported_with_their_path(orders_only):
    root, _, result = orders_only
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    for bad in ("order", "orders/20250506", "orders/2025-02-30"):
        path = str(root / "landing" / bad)
        reported = [x for x in lines if x.strip().startswith("WARN landing: ") and f" {path} is " in x]
        assert len(reported) == 2, (bad, reported)  # when the run starts and in the list at its end
    [end] = [x for x in lines if x.startswith("Run ") and " succeeded with " in x]
    listed = [x for x in lines if x.startswith("  WARN ")]
    assert end.endswith(f"succeeded with {len(listed)} WARN(s).") and len(listed) >= 3


def test_feed_coverage_counts_what_the_landing_zone_holds(orders_only):
    root, _, result = orders_only
    assert result.returncode == 0
    coverage = {r[0]: r[1:] for r in _query(
        root / "serving.duckdb",
        "SELECT feed, first_day, last_day, days_delivered, rows_loaded, rows_quarantined FROM feed_coverage")}
    assert set(coverage) == set(FEEDS)
    days, lines = _lines(root / "landing", "orders")
    assert coverage["orders"] == (START, START + timedelta(days=DAYS - 1), days, lines, 0)
    assert coverage["customers"][2:] == (1, 120, 0)
    assert coverage["surveys"] == (None, None, 0, 0, 0)


def test_leads_alone_publish_the_lead_funnel(tmp_path):
    landing = tmp_path / "landing"
    stages = ["created", "qualified", "proposal", "won", "lost"]
    for n in range(DAYS):
        day = START + timedelta(days=n)
        rows = []
        for i in range(6):
            stage = stages[min(n // 3, 4) if i % 2 else 0]
            rows.append([f"L{i:03d}", ["D1", "P1"][i % 2], stage, f"{day.isoformat()}T10:{i:02d}:00+08:00", "", "制造"])
        _write(landing / "leads" / day.isoformat() / "leads.csv", "leads", rows)
    env = salesmp_env(tmp_path)
    result = run_salesmp(["run"], env)
    assert result.returncode == 0, result.stderr[-3000:]
    serving = tmp_path / "serving.duckdb"
    created, won = _query(serving, "SELECT sum(leads_created), sum(leads_won) FROM mart_channel_funnel")[0]
    assert created == 6 and won == 3  # six leads, the three odd ones go on to won
    status = dict(_query(serving, "SELECT mart, status FROM mart_status"))
    assert status["fct_orders"] == "empty_no_input" and status["mart_nps"] == "empty_no_input"
