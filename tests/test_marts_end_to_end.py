"""The whole graph through Dagster on a generated landing zone; every mart against the pandas oracle.

The oracle (tests/oracle) is written from the issue's definitions and docs/mart_rules*.md, never
from the SQL; figures must agree to the cent and to the count.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dagster_project.generator import generate_landing_zone
from tests.conftest import ROOT, run_salesmp
from tests.oracle.care_marts import MART_KEYS as CARE_KEYS
from tests.oracle.care_marts import compute_care_marts
from tests.oracle.compare import assert_frames_match
from tests.oracle.core_marts import MART_KEYS as CORE_KEYS
from tests.oracle.core_marts import compute_core_marts
from tests.oracle.raw_io import load_mart, load_raw

SEEDS = ROOT / "seeds"
TZ = "Asia/Shanghai"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root: Path = tmp_path_factory.mktemp("marts")
    landing = root / "landing"
    generate_landing_zone(
        landing, seed=11, start=__import__("datetime").date(2025, 1, 1), days=130, customers=700,
        orders=16_000, defect_rate=0.002, file_format="mixed", progress=False,
    )
    env = _env(root)
    result = run_salesmp(["run"], env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    raw = load_raw(env["SALESMP_WAREHOUSE"])
    core = compute_core_marts(raw, SEEDS, TZ)
    care = compute_care_marts(raw, SEEDS, TZ, core=core)
    return {"env": env, "root": root, "expected": {**core, **care}, "stdout": result.stdout}


def _env(root: Path) -> dict[str, str]:
    import os
    import sys

    env = dict(os.environ)
    env.update(
        SALESMP_LANDING=str(root / "landing"),
        SALESMP_WAREHOUSE=str(root / "warehouse.duckdb"),
        SALESMP_SERVING=str(root / "serving.duckdb"),
        SALESMP_SITE=str(root / "site"),
        DAGSTER_HOME=str(root / "dagster_home"),
        SALESMP_TZ=TZ,
        PATH=str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
    )
    return env


@pytest.mark.parametrize("mart", sorted(CORE_KEYS))
def test_core_mart_matches_oracle(built, mart):
    actual = load_mart(built["env"]["SALESMP_WAREHOUSE"], mart)
    expected = built["expected"][mart]
    assert len(expected) > 0, f"the sample data should give {mart} some rows"
    assert_frames_match(actual, expected, CORE_KEYS[mart], name=mart)


@pytest.mark.parametrize("mart", sorted(CARE_KEYS))
def test_care_mart_matches_oracle(built, mart):
    actual = load_mart(built["env"]["SALESMP_WAREHOUSE"], mart)
    expected = built["expected"][mart]
    assert len(expected) > 0, f"the sample data should give {mart} some rows"
    assert_frames_match(actual, expected, CARE_KEYS[mart], name=mart)


def test_no_personal_data_in_clear_outside_staging(built):
    con = duckdb.connect(built["env"]["SALESMP_WAREHOUSE"], read_only=True)
    try:
        phones = {p for (p,) in con.execute("SELECT phone FROM raw.customers WHERE phone IS NOT NULL").fetchall()}
        emails = {e for (e,) in con.execute("SELECT email FROM raw.customers WHERE email IS NOT NULL").fetchall()}
        assert phones and emails
        cols = con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE table_schema IN ('marts', 'intermediate') AND data_type = 'VARCHAR'"
        ).fetchall()
        for schema, table, column in cols:
            values = {v for (v,) in con.execute(f'SELECT DISTINCT "{column}" FROM {schema}.{table}').fetchall()}
            assert not values & phones, f"{schema}.{table}.{column} holds phone numbers in clear"
            assert not values & emails, f"{schema}.{table}.{column} holds e-mail addresses in clear"
    finally:
        con.close()
