"""Freshness settings, and the rule that only a real delivery materializes a feed's `landing/<feed>` asset.

What the Dagster UI then shows (late / fresh, through the freshness daemon) is tested through the
webserver in tests/test_dagster_ui.py.
"""

from __future__ import annotations

import csv
import os
import subprocess
from datetime import timedelta

import dagster as dg
import pytest

from dagster_project.errors import UserError
from dagster_project.freshness import FRESHNESS_SEED, _seed_windows, freshness_windows, landing_key
from dagster_project.ingest.assets import raw_assets
from dagster_project.ingest.feeds import FEEDS
from dagster_project.resources import DuckDBWarehouse
from tests.conftest import ROOT, SALESMP

DAY = "2025-03-03"


def test_seed_gives_every_feed_and_publish_a_window_and_a_daily_feed_is_late_after_30_hours(monkeypatch):
    monkeypatch.delenv("SALESMP_FRESHNESS", raising=False)
    with FRESHNESS_SEED.open(encoding="utf-8") as f:
        rows = {r["asset"]: r for r in csv.DictReader(f)}
    assert set(rows) == {*FEEDS, "serving/publish"}
    windows = freshness_windows()
    for feed in ("orders", "customers", "channels", "channel_activity", "leads", "surveys", "complaints"):
        assert windows[feed].late_after == timedelta(hours=30), feed
        assert windows[feed].warn_after < windows[feed].late_after
    assert windows["sales_targets"].late_after == timedelta(days=35)  # monthly feed
    assert windows["serving/publish"].late_after == timedelta(hours=30)


def test_freshness_override_and_its_one_sentence_errors(monkeypatch):
    monkeypatch.setenv("SALESMP_FRESHNESS", "orders=36h, channels=90m,sales_targets=40d,serving/publish=2")
    windows = freshness_windows()
    assert windows["orders"].late_after == timedelta(hours=36)
    assert windows["orders"].warn_after == timedelta(hours=26)  # the seed's, still below the window
    assert windows["channels"].late_after == timedelta(minutes=90)
    assert windows["channels"].warn_after is None  # the seed's 26 hours would not be below 90 minutes
    assert windows["sales_targets"].late_after == timedelta(days=40)
    assert windows["serving/publish"].late_after == timedelta(hours=2)
    for bad in ("order=30h", "orders=30x", "orders", "orders=30s", "orders=0.5m"):
        monkeypatch.setenv("SALESMP_FRESHNESS", bad)
        with pytest.raises(UserError) as error:
            freshness_windows()
        message = str(error.value)
        assert message.startswith(f"SALESMP_FRESHNESS={bad!r} is not a list of asset=duration")
        assert message.count(". ") == 0 and message.endswith(").")


def test_a_wrong_seed_row_is_one_sentence(tmp_path):
    good = FRESHNESS_SEED.read_text(encoding="utf-8")
    cases = {
        "warn not below late": good.replace("orders,30,26", "orders,30,30"),
        "a feed missing": "\n".join(line for line in good.splitlines() if not line.startswith("leads,")),
        "not a feed": good + "refunds,30,26,Not a feed\n",
        "not a number": good.replace("orders,30,26", "orders,thirty,26"),
    }
    sentences = {}
    for case, text in cases.items():
        seed = tmp_path / "feed_freshness.csv"
        seed.write_text(text, encoding="utf-8")
        with pytest.raises(UserError) as error:
            _seed_windows(seed)
        sentences[case] = str(error.value)
    assert "the row of orders needs late_after_hours of at least 1 minute" in sentences["warn not below late"]
    assert "has no row for leads" in sentences["a feed missing"]
    assert "has a row for refunds, which is neither a feed nor serving/publish" in sentences["not a feed"]
    assert "the row of orders has hours that are not numbers" in sentences["not a number"]


def test_a_bad_value_stops_the_definitions_with_one_sentence(tmp_path):
    (tmp_path / "orders" / DAY).mkdir(parents=True)
    env = {**os.environ, "SALESMP_FRESHNESS": "orders=soon", "DAGSTER_HOME": str(tmp_path / "home"),
           "SALESMP_WAREHOUSE": str(tmp_path / "warehouse.duckdb")}
    proc = subprocess.run(
        [SALESMP, "run", "--landing", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 2, proc.stderr
    assert "SALESMP_FRESHNESS='orders=soon' is not a list of asset=duration" in proc.stderr
    assert "Traceback" not in proc.stderr


def _deliveries(instance: dg.DagsterInstance, feed: str) -> list[dg.EventLogEntry]:
    return [
        r.event_log_entry
        for r in instance.fetch_materializations(landing_key(feed), limit=100).records
    ]


def test_only_new_or_changed_files_with_rows_are_a_delivery(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    subprocess.run(
        [SALESMP, "generate", "--out", str(landing), "--start", DAY, "--days", "1",
         "--customers", "30", "--orders", "40", "--defect-rate", "0"],
        check=True, capture_output=True, cwd=ROOT,
    )
    monkeypatch.setenv("SALESMP_LANDING", str(landing))
    monkeypatch.setenv("SALESMP_LANDING_SETTLE_SECONDS", "0")
    assert not (landing / "complaints" / DAY).exists()  # a day without complaints
    assets = [a for a in raw_assets if a.key.path[-1] in ("channels", "complaints")]
    warehouse = DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb"))

    def run() -> None:
        dg.materialize(assets, partition_key=DAY, instance=instance, resources={"warehouse": warehouse})

    with dg.instance_for_test() as instance:
        run()
        assert len(_deliveries(instance, "channels")) == 1
        assert _deliveries(instance, "complaints") == []  # materialized raw/complaints, delivered nothing
        first = _deliveries(instance, "channels")[0]
        metadata = first.asset_materialization.metadata
        assert metadata["files_delivered"].value == 1
        assert metadata["newest_file"].value == f"channels/{DAY}/channels_{DAY.replace('-', '')}.jsonl"

        run()  # the same files read again: not a delivery
        assert len(_deliveries(instance, "channels")) == 1
        raw = instance.fetch_materializations(dg.AssetKey(["raw", "channels"]), limit=10).records
        assert len(raw) == 2

        path = landing / metadata["newest_file"].value
        os.utime(path)  # the day re-delivered
        run()
        assert len(_deliveries(instance, "channels")) == 2
