"""The Dagster-dbt contract (dagster_project/transform/dbt_vars.py): what a run's days and settings
become as the `--vars` of its `dbt build`, and that dbt's profile really opens what the vars name."""

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb

from dagster_project.config import Settings
from dagster_project.transform.dbt_vars import arrival_window, connection_vars, dbt_vars
from tests.conftest import ROOT


def settings(tmp_path: Path, **changes) -> Settings:
    base = dict(
        landing=tmp_path / "landing", warehouse=tmp_path / "wh.duckdb", serving=tmp_path / "serving.duckdb",
        site=tmp_path / "site", dagster_home=tmp_path / "home", tz="Asia/Shanghai",
        partitions_start=date(2025, 1, 1), duckdb_memory_limit="512MB", duckdb_threads=3,
    )
    return Settings(**{**base, **changes})


def test_a_run_without_days_reads_every_arrival():
    assert arrival_window(None, date(2025, 3, 2)) is None
    assert arrival_window([], None) is None


def test_the_window_of_a_range_ends_the_day_after_its_last_day():
    days = [date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3)]
    assert arrival_window(days, None) == {"min_date": "2025-03-01", "max_date": "2025-03-04"}
    # The latest day loaded is inside the range or before it: the range decides.
    assert arrival_window(days, date(2025, 3, 2)) == {"min_date": "2025-03-01", "max_date": "2025-03-04"}


def test_a_rerun_of_old_days_extends_to_the_latest_day_loaded():
    assert arrival_window([date(2025, 2, 10)], date(2025, 3, 2)) == {"min_date": "2025-02-10", "max_date": "2025-03-03"}


def test_days_out_of_order_give_the_same_window():
    days = [date(2025, 3, 3), date(2025, 3, 1)]
    assert arrival_window(days, None) == {"min_date": "2025-03-01", "max_date": "2025-03-04"}


def test_connection_vars_name_the_warehouse_absolutely(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    got = connection_vars(settings(tmp_path, warehouse=Path("rel/wh.duckdb"), tz="UTC"))
    assert got == {"warehouse": str(tmp_path / "rel" / "wh.duckdb"), "duckdb_memory_limit": "512MB",
                   "dbt_threads": 3, "tz": "UTC"}


def test_dbt_vars_are_the_connection_and_the_window(tmp_path):
    s = settings(tmp_path)
    assert dbt_vars(s, None, None) == connection_vars(s)
    assert dbt_vars(s, [date(2025, 3, 1)], None) == {**connection_vars(s), "min_date": "2025-03-01",
                                                      "max_date": "2025-03-02"}


def test_dbt_opens_the_warehouse_the_vars_name_not_the_environment(tmp_path):
    """The profile reads the vars before the environment: a dbt run given the vars writes the warehouse
    they name, whatever SALESMP_WAREHOUSE says, with the memory limit they name."""
    s = settings(tmp_path, warehouse=tmp_path / "from_vars.duckdb")
    env = {**os.environ, "SALESMP_WAREHOUSE": str(tmp_path / "from_env.duckdb"),
           "DBT_TARGET_PATH": str(tmp_path / "target"), "DBT_LOG_PATH": str(tmp_path / "target"),
           "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")}
    result = subprocess.run(
        ["dbt", "seed", "--profiles-dir", "dbt", "--select", "lead_stage_order",
         "--vars", json.dumps(dbt_vars(s, None, None))],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert not (tmp_path / "from_env.duckdb").exists()
    con = duckdb.connect(str(s.warehouse), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM seeds.lead_stage_order").fetchone()[0] > 0
    finally:
        con.close()
