"""The dbt project on its own: seeds, models, contracts, data tests and unit tests on a fixture
warehouse, and daily incremental runs equal to one full build, table for table."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.dbt_fixture.build_fixture_warehouse import build
from tests.dbt_fixture.check_incremental_equals_full import main as incremental_equals_full

os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")


def test_dbt_build_with_unit_tests_passes(tmp_path):
    warehouse = tmp_path / "fixture.duckdb"
    build(warehouse)
    result = subprocess.run(
        ["dbt", "build", "--profiles-dir", "dbt"],
        # dbt's artifacts under tmp_path: target/ holds the manifest other processes load.
        cwd=ROOT,
        env={**os.environ, "SALESMP_WAREHOUSE": str(warehouse),
             "DBT_TARGET_PATH": str(tmp_path / "target"), "DBT_LOG_PATH": str(tmp_path / "target")},
        capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stdout[-5000:]
    assert " unit_test " in result.stdout or "unit test" in result.stdout.lower()


def test_daily_incremental_runs_equal_full_refresh(tmp_path):
    assert incremental_equals_full(tmp_path) == 0


def test_raw_columns_macro_mirrors_the_feed_contract():
    import ast
    import re

    from dagster_project.ingest.feeds import FEEDS, LINEAGE_COLUMNS

    text = (ROOT / "dbt" / "macros" / "raw_columns.sql").read_text()
    contract = ast.literal_eval(re.search(r"set contract = (\{.*?\}) -%\}", text, re.S).group(1))
    assert contract == {name: list(feed.column_names) for name, feed in FEEDS.items()}
    lineage = ast.literal_eval(re.search(r"contract\[feed\] \+ (\[.*?\])", text).group(1))
    assert sorted(lineage) == sorted(name for name, _ in LINEAGE_COLUMNS)
