"""BI clients on a real build (`built_pipeline`): the Parquet export, a SQLAlchemy + duckdb-engine client
querying while another build publishes, and the oldest DuckDB we support reading the serving file.

What BI tools may rely on is written in docs/bi.md; these tests hold it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from dagster_project.bi import parquet_export as px
from dagster_project.errors import UserError
from tests.conftest import ROOT, SALESMP

# The oldest DuckDB that opens the serving file: publishing writes storage_compatibility_version v1.0.0
# (dagster_project/publish/serving.py); DuckDB 0.10.0 fails on it ("Failed to deserialize: field id
# mismatch"), so 1.0.0 is the floor documented in docs/bi.md.
OLDEST_DUCKDB = "1.0.0"
OLDEST_VENV = ROOT / "benchmarks" / "cache" / f"bi-duckdb-{OLDEST_DUCKDB}-py{sys.version_info[0]}{sys.version_info[1]}"

# The typical dashboard tile of docs/bi.md: revenue, orders and new customers by channel type and month.
# Only exact types (DECIMAL, BIGINT, DATE, VARCHAR) so every DuckDB version returns the same figures.
DASHBOARD_SQL = """
SELECT month, channel_type, sum(revenue) AS revenue, sum(orders) AS orders, sum(new_customers) AS new_customers
FROM mart_channel_health
GROUP BY month, channel_type
ORDER BY month, channel_type
"""

# Run by the oldest DuckDB (and, for comparison, by ours): open serving read-only, list its tables, run
# the dashboard query, and read the Parquet export of fct_orders. Prints one JSON object.
PLAIN_CLIENT = """
import json, sys
import duckdb
serving, parquet, sql = sys.argv[1], sys.argv[2], sys.argv[3]
con = duckdb.connect(serving, read_only=True)
tables = [r[0] for r in con.execute(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1").fetchall()]
rows = [[str(v) for v in r] for r in con.execute(sql).fetchall()]
orders = con.execute(
    "SELECT count(*), sum(amount) FROM read_parquet('" + parquet + "/fct_orders/**/*.parquet')").fetchone()
con.close()
print(json.dumps({"version": duckdb.__version__, "tables": tables, "rows": rows,
                  "parquet_fct_orders": [str(v) for v in orders]}))
"""


def _paths(built: dict) -> tuple[Path, Path]:
    env = built["env"]
    return Path(env["SALESMP_SERVING"]), Path(env["SALESMP_SITE"]) / "parquet"


def _serving_tables(serving: Path) -> list[str]:
    con = duckdb.connect(str(serving), read_only=True)
    try:
        return px.serving_tables(con)
    finally:
        con.close()


def _as_utc(frame: pd.DataFrame) -> pd.DataFrame:
    """Same instants, one zone: DuckDB returns TIMESTAMPTZ in its session zone, Parquet in UTC."""
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
            frame[column] = frame[column].dt.tz_convert("UTC")
    return frame


# ---------------------------------------------------------------------------------------------------
# a. The Parquet export


def test_parquet_export_has_every_serving_table_with_its_rows_columns_and_types(built_pipeline):
    serving, parquet = _paths(built_pipeline)
    assert parquet.is_symlink() and parquet.resolve().parent == parquet.parent / ".parquet"
    manifest = json.loads((parquet / px.MANIFEST).read_text())
    entries = {t["table"]: t for t in manifest["tables"]}
    tables = _serving_tables(serving)
    assert tables and all(not t.startswith(("raw", "stg_", "int_")) for t in tables)
    assert sorted(entries) == tables
    assert sorted(p.name for p in parquet.iterdir() if p.is_dir()) == tables

    con = duckdb.connect(str(serving), read_only=True)
    try:
        newest_build = con.execute(
            "SELECT build_id FROM publish_log ORDER BY published_at DESC LIMIT 1"
        ).fetchone()[0]
        assert manifest["build_id"] == newest_build
        for table in tables:
            entry = entries[table]
            files = sorted(p.relative_to(parquet).as_posix() for p in (parquet / table).rglob("*.parquet"))
            assert entry["files"] == files and files, table
            scan = f"read_parquet('{parquet}/{table}/**/*.parquet', hive_partitioning = false)"
            expected_columns = con.execute(f'DESCRIBE SELECT * FROM "{table}"').fetchall()
            assert con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall() == expected_columns, table
            assert [(c["name"], c["type"]) for c in entry["columns"]] == [c[:2] for c in expected_columns]
            rows = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            assert con.execute(f"SELECT count(*) FROM {scan}").fetchone()[0] == rows == entry["rows"], table

        # The large facts are split by month of their event date, hive style; the rest is one file each.
        partitioned = {t for t, e in entries.items() if e["partitioned_by"]}
        assert partitioned == set(px.MONTHLY_PARTITION_DATE) & set(tables) and "fct_orders" in partitioned
        for table, entry in entries.items():
            if table not in partitioned:
                assert entry["files"] == [f"{table}/{table}.parquet"]
        months = [r[0] for r in con.execute(
            "SELECT DISTINCT strftime(order_date, '%Y-%m') FROM fct_orders ORDER BY 1").fetchall()]
        assert len(months) >= 3
        assert sorted(p.name for p in (parquet / "fct_orders").iterdir()) == [f"month={m}" for m in months]
        misplaced = con.execute(
            f"SELECT count(*) FROM read_parquet('{parquet}/fct_orders/**/*.parquet', hive_partitioning = true) "
            "WHERE strftime(order_date, '%Y-%m') <> month"
        ).fetchone()[0]
        assert misplaced == 0
    finally:
        con.close()


@pytest.mark.parametrize(
    ("table", "key"), [("fct_orders", ["order_id"]), ("mart_channel_health", ["channel_id", "month"])]
)
def test_parquet_rows_equal_the_serving_rows(built_pipeline, table, key):
    """A partitioned fact and a mart, read as a file tool would (pandas + pyarrow, hive folders)."""
    serving, parquet = _paths(built_pipeline)
    con = duckdb.connect(str(serving), read_only=True)
    try:
        expected = con.sql(f'SELECT * FROM "{table}"').to_arrow_table().to_pandas()
    finally:
        con.close()
    exported = pd.read_parquet(parquet / table)
    if table in px.MONTHLY_PARTITION_DATE:
        assert set(exported[px.PARTITION_KEY].astype(str)) == set(
            expected[px.MONTHLY_PARTITION_DATE[table]].map(lambda d: d.strftime("%Y-%m"))
        )
        exported = exported.drop(columns=[px.PARTITION_KEY])
    assert len(expected) > 0
    expected = _as_utc(expected.sort_values(key).reset_index(drop=True))
    exported = _as_utc(exported.sort_values(key).reset_index(drop=True))
    pd.testing.assert_frame_equal(exported, expected)


def test_a_new_export_is_swapped_in_whole_and_a_failed_one_changes_nothing(built_pipeline, tmp_path, monkeypatch):
    serving, _ = _paths(built_pipeline)
    site = tmp_path / "site"
    first = px.export_parquet(serving=serving, site=site)
    second = px.export_parquet(serving=serving, site=site)
    third = px.export_parquet(serving=serving, site=site)
    assert (site / "parquet").resolve() == third.target
    # the previous export stays for readers still on it; older ones are gone
    assert sorted((site / ".parquet").iterdir()) == sorted([second.target, third.target])
    assert not first.target.exists()

    monkeypatch.setitem(px.MONTHLY_PARTITION_DATE, "mart_channel_health", "channel_id")
    with pytest.raises(UserError, match="^Exporting stopped: mart_channel_health cannot be split by month"):
        px.export_parquet(serving=serving, site=site)
    assert (site / "parquet").resolve() == third.target
    assert sorted((site / ".parquet").iterdir()) == [third.target]
    assert json.loads((site / "parquet" / px.MANIFEST).read_text()) == third.manifest


def _inodes(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_ino for p in root.rglob("*.parquet")}


def test_a_new_export_writes_only_the_months_and_tables_that_changed(built_pipeline, tmp_path):
    """The second export of an unchanged build writes no file; after one order of one month and one
    mart change, only that month's files and that mart's file are new, the rest are hard links to the
    live export, and what a reader sees still equals the serving tables."""
    serving = tmp_path / "serving.duckdb"
    shutil.copyfile(_paths(built_pipeline)[0], serving)
    site = tmp_path / "site"
    first = px.export_parquet(serving=serving, site=site)
    assert all(t["reused_files"] == 0 and t["written_units"] for t in first.manifest["tables"])
    second = px.export_parquet(serving=serving, site=site)
    assert [t["written_units"] for t in second.manifest["tables"]] == [[]] * len(second.manifest["tables"])
    assert _inodes(second.target) == _inodes(first.target)

    con = duckdb.connect(str(serving))
    try:
        month, order_id = con.execute(
            "SELECT strftime(order_date, '%Y-%m'), order_id FROM fct_orders ORDER BY order_date, order_id LIMIT 1"
        ).fetchone()
        con.execute("UPDATE fct_orders SET amount = amount + 1 WHERE order_id = ?", [order_id])
        con.execute("UPDATE mart_channel_health SET orders = orders + 1 WHERE rowid = 0")
        expected_orders = con.execute("SELECT order_id, amount FROM fct_orders ORDER BY order_id").fetchall()
        expected_health = con.sql("SELECT * FROM mart_channel_health").to_arrow_table().to_pandas()
    finally:
        con.close()
    third = px.export_parquet(serving=serving, site=site)
    written = {t["table"]: t["written_units"] for t in third.manifest["tables"] if t["written_units"]}
    assert written == {"fct_orders": [month], "mart_channel_health": ["*"]}
    before, after = _inodes(second.target), _inodes(third.target)
    assert sorted(before) == sorted(after)
    changed = sorted(f for f in after if after[f] != before[f])
    assert changed and all(f.startswith((f"fct_orders/month={month}/", "mart_channel_health/")) for f in changed)
    assert any(f.startswith("mart_channel_health/") for f in changed)

    orders = pd.read_parquet(third.root / "fct_orders", columns=["order_id", "amount"]).sort_values("order_id")
    assert list(orders.itertuples(index=False, name=None)) == expected_orders
    key = ["channel_id", "month"]
    health = pd.read_parquet(third.root / "mart_channel_health").sort_values(key).reset_index(drop=True)
    expected_health = expected_health.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(_as_utc(health), _as_utc(expected_health))
    # A manifest whose fingerprint disagrees with the files is not trusted: the unit is rewritten.
    manifest = json.loads((third.target / px.MANIFEST).read_text())
    for t in manifest["tables"]:
        if t["table"] == "dim_channels":
            t["units"]["*"]["fingerprint"] = "0"
    (third.target / px.MANIFEST).write_text(json.dumps(manifest))
    fourth = px.export_parquet(serving=serving, site=site)
    assert {t["table"]: t["written_units"] for t in fourth.manifest["tables"] if t["written_units"]} == {
        "dim_channels": ["*"]
    }


def test_rows_without_a_month_are_exported_every_time(tmp_path):
    """A fact row whose partition date is NULL lands in DuckDB's hive default folder; it is its own
    unit, never reused, and the export still holds every row."""
    serving = tmp_path / "serving.duckdb"
    con = duckdb.connect(str(serving))
    try:
        con.execute("CREATE TABLE publish_log (build_id VARCHAR, published_at TIMESTAMPTZ)")
        con.execute("INSERT INTO publish_log VALUES ('b1', now())")
        con.execute(
            "CREATE TABLE fct_orders AS SELECT 'O' || i AS order_id, "
            "CASE WHEN i = 3 THEN NULL ELSE DATE '2025-01-30' + CAST(i AS INTEGER) END AS order_date "
            "FROM range(5) t(i)"
        )
    finally:
        con.close()
    site = tmp_path / "site"
    first = px.export_parquet(serving=serving, site=site)
    second = px.export_parquet(serving=serving, site=site)
    for report in (first, second):
        (entry,) = report.manifest["tables"]
        assert entry["rows"] == 5 and sorted(entry["units"]) == ["", "2025-01", "2025-02"]
        assert entry["units"][""]["rows"] == 1 and len(entry["units"][""]["files"]) == 1
    assert second.manifest["tables"][0]["written_units"] == [""]
    scan = f"read_parquet('{second.root}/fct_orders/**/*.parquet', hive_partitioning = false)"
    exported = duckdb.connect().execute(f"SELECT order_id, order_date FROM {scan} ORDER BY order_id").fetchall()
    assert [r[0] for r in exported] == [f"O{i}" for i in range(5)] and exported[3][1] is None


# ---------------------------------------------------------------------------------------------------
# b. A SQLAlchemy + duckdb-engine client (what Superset uses) while a build publishes


def _dashboard(engine: sa.Engine) -> dict:
    """One dashboard refresh on one connection: the marts the inspector lists, the newest build, the
    tile's rows, and whether the mart's rows are the ones publish_log recorded for that build."""
    with engine.connect() as conn:
        marts = sa.inspect(conn).get_table_names()
        build_id, logged = conn.execute(
            sa.text("SELECT build_id, row_counts FROM publish_log ORDER BY published_at DESC LIMIT 1")
        ).one()
        rows = [tuple(str(v) for v in r) for r in conn.execute(sa.text(DASHBOARD_SQL)).all()]
        count = conn.execute(sa.text("SELECT count(*) FROM mart_channel_health")).scalar_one()
    return {
        "marts": marts,
        "build_id": build_id,
        "rows": rows,
        "consistent": count == json.loads(logged)["mart_channel_health"],
    }


def test_superset_style_uri_opens_serving_read_only(built_pipeline):
    serving, _ = _paths(built_pipeline)
    engine = sa.create_engine(f"duckdb:///{serving}?access_mode=read_only", poolclass=NullPool)
    try:
        assert "mart_channel_health" in sa.inspect(engine).get_table_names()
        with engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="read-only"):
            conn.execute(sa.text("CREATE TABLE bi_scratch AS SELECT 1 AS x"))
    finally:
        engine.dispose()


def test_sqlalchemy_client_sees_no_error_and_whole_builds_while_a_build_publishes(
    built_pipeline, tmp_path, data_env
):
    # A copy of the built state, so the shared build stays as it is; data_env points into tmp_path.
    base = built_pipeline["root"]
    for name in ("landing", "dagster_home", "site"):
        shutil.copytree(base / name, tmp_path / name, symlinks=True)
    # The PII key travels with its warehouse: a copy with another key would be refused.
    for name in ("warehouse.duckdb", "serving.duckdb", "pii.key"):
        shutil.copy(base / name, tmp_path / name)
    serving = Path(data_env["SALESMP_SERVING"])
    # A new connection per query (NullPool): the serving file is replaced by rename, and only a new
    # connection opens the new file. Superset's analytics engines use NullPool by default. (No other
    # connection to this file may stay open in this process: DuckDB would hand every new connection
    # the database instance already open, that is the old file; see docs/bi.md.)
    engine = sa.create_engine(f"duckdb:///{serving}", connect_args={"read_only": True}, poolclass=NullPool)
    before = _dashboard(engine)
    assert {"fct_orders", "mart_channel_health", "publish_log"} <= set(before["marts"]) and before["consistent"]

    # Re-run the last day of the landing zone: a whole build (ingest, dbt build of every mart, gates,
    # publish, export) that publishes a new serving file with the same figures.
    last_day = max(p.name for p in (tmp_path / "landing" / "orders").iterdir() if p.is_dir())
    log = tmp_path / "run.log"
    with log.open("w") as out:
        build = subprocess.Popen(
            [SALESMP, "run", "--from", last_day, "--to", last_day],
            env=data_env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, text=True,
        )
    results, errors = [], []
    deadline = time.monotonic() + 900
    try:
        while build.poll() is None and time.monotonic() < deadline:
            try:
                results.append(_dashboard(engine))
            except Exception as exc:  # noqa: BLE001 - every failed refresh is a finding
                errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
            time.sleep(0.1)  # a dashboard's pace; leaves the build its CPU
    finally:
        if build.poll() is None:
            build.kill()
        build.wait(timeout=60)
    output = log.read_text()
    assert build.returncode == 0, output[-3000:]
    after = _dashboard(engine)
    engine.dispose()

    builds_seen = list(dict.fromkeys(r["build_id"] for r in results))
    print(f"\nSQLAlchemy refreshes during the build: {len(results)}, errors: {len(errors)}, builds seen: {builds_seen}")
    assert errors == []
    assert len(results) > 10
    assert after["build_id"] != before["build_id"]
    assert builds_seen == [before["build_id"], after["build_id"]]  # it queried across the publish
    assert all(r["consistent"] for r in results)
    assert all(r["marts"] == before["marts"] and r["rows"] == before["rows"] for r in results)
    assert after["rows"] == before["rows"] and after["consistent"]


# ---------------------------------------------------------------------------------------------------
# c. The oldest DuckDB we support


def _oldest_duckdb_python() -> Path:
    """A cached venv (benchmarks/cache, gitignored) with duckdb==OLDEST_DUCKDB; built on first use."""
    python = OLDEST_VENV / "bin" / "python"
    check = [str(python), "-c", f"import duckdb; assert duckdb.__version__ == {OLDEST_DUCKDB!r}"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    staging = OLDEST_VENV.with_name(f"{OLDEST_VENV.name}.building-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.parent.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(staging)], check=True, capture_output=True)
        pip = subprocess.run(
            [str(staging / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q",
             f"duckdb=={OLDEST_DUCKDB}"],
            capture_output=True, text=True, timeout=900,
        )
        if pip.returncode != 0:
            last = (pip.stderr.strip().splitlines() or ["no output"])[-1]
            pytest.fail(f"pip could not install duckdb=={OLDEST_DUCKDB} into {staging} ({last}); this test needs PyPI.")
        shutil.rmtree(OLDEST_VENV, ignore_errors=True)
        os.replace(staging, OLDEST_VENV)  # a venv runs from a new folder name (no script of it is used)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    assert subprocess.run(check, capture_output=True).returncode == 0, f"{OLDEST_VENV} has no duckdb {OLDEST_DUCKDB}"
    return python


def _plain_client(python: Path, serving: Path, parquet: Path) -> dict:
    done = subprocess.run(
        [str(python), "-c", PLAIN_CLIENT, str(serving), str(parquet), DASHBOARD_SQL],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_oldest_supported_duckdb_reads_the_serving_file_and_the_parquet_export(built_pipeline):
    serving, parquet = _paths(built_pipeline)
    oldest = _plain_client(_oldest_duckdb_python(), serving, parquet)
    ours = _plain_client(Path(sys.executable), serving, parquet)
    assert oldest["version"] == OLDEST_DUCKDB and ours["version"] == duckdb.__version__
    assert oldest["tables"] == ours["tables"] == sorted([*_serving_tables(serving), "publish_log"])
    assert oldest["rows"] == ours["rows"] and len(ours["rows"]) > 0
    assert oldest["parquet_fct_orders"] == ours["parquet_fct_orders"]
    engine = sa.create_engine(f"duckdb:///{serving}", connect_args={"read_only": True}, poolclass=NullPool)
    try:
        assert [list(r) for r in _dashboard(engine)["rows"]] == ours["rows"]
    finally:
        engine.dispose()

