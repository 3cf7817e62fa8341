"""Write-audit-publish on a small synthetic warehouse: what is published, what stops it, and BI readers.

The pipeline's own publishing (through `salesmp run`) is in test_quality_end_to_end.py.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from dagster_project.errors import UserError
from dagster_project.publish.serving import building_path, publish_marts, read_serving_state

READER = str(Path(__file__).resolve().parent / "serving_reader.py")
PASSED = {"raw/orders:keys": {"passed": True, "severity": "ERROR", "run": "this build", "summary": "ok"}}


def make_warehouse(path: Path, version: int, *, leak: str | None = None) -> None:
    """raw, staging and marts schemas; every mart row carries `build_marker` = build-<version>."""
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        marker = f"build-{version}"
        con.execute("CREATE SCHEMA raw; CREATE SCHEMA staging; CREATE SCHEMA marts")
        con.execute(
            "CREATE TABLE raw.customers AS SELECT 'C' || i AS customer_id, '张伟' || i AS name, "
            "'1381234' || lpad(i::VARCHAR, 4, '0') AS phone, 'u' || i || '@example.com' AS email "
            "FROM range(50) t(i)"
        )
        con.execute("CREATE TABLE staging.stg_orders AS SELECT 1 AS x")
        con.execute(
            f"CREATE TABLE marts.dim_customers AS SELECT 'C' || i AS customer_id, '张**' AS name_masked, "
            f"'138****' || lpad(i::VARCHAR, 4, '0') AS phone_masked, '{marker}' AS build_marker "
            "FROM range(50) t(i)"
        )
        con.execute(
            f"CREATE TABLE marts.fct_orders AS SELECT 'O' || i AS order_id, "
            f"CAST(10 + i AS DECIMAL(18,2)) AS amount, '{marker}' AS build_marker "
            f"FROM range({1000 + 37 * version}) t(i)"
        )
        con.execute(
            "CREATE TABLE marts.mart_nps AS SELECT DATE '2025-03-01' + CAST(i AS INTEGER) AS month, "
            f"12.5 AS nps, '{marker}' AS build_marker FROM range({10 + version}) t(i)"
        )
        if leak:
            con.execute(f"UPDATE marts.dim_customers SET name_masked = '{leak}' WHERE customer_id = 'C7'")
    finally:
        con.close()


def publish(tmp_path: Path, version: int, checks=None, **kw):
    return publish_marts(
        warehouse=tmp_path / "warehouse.duckdb",
        serving=tmp_path / "serving.duckdb",
        build_id=f"build-{version}",
        partition_first=date(2025, 3, 1),
        partition_last=date(2025, 3, version),
        check_results=PASSED if checks is None else checks,
        **kw,
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_publishes_the_marts_only_with_a_publish_log(tmp_path):
    make_warehouse(tmp_path / "warehouse.duckdb", 1)
    report = publish(tmp_path, 1)
    assert report.row_counts == {"dim_customers": 50, "fct_orders": 1037, "mart_nps": 11}
    con = duckdb.connect(str(tmp_path / "serving.duckdb"), read_only=True)
    try:
        tables = {
            r[0]
            for r in con.execute("SELECT table_schema || '.' || table_name FROM information_schema.tables").fetchall()
        }
        log = con.execute(
            "SELECT build_id, partition_first, partition_last, marts, row_counts, checks_passed, "
            "checks_failed_warn FROM publish_log"
        ).fetchall()
        storage = con.execute(
            "SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchone()[0]
        amount_type = con.execute(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = 'fct_orders' AND column_name = 'amount'"
        ).fetchone()[0]
    finally:
        con.close()
    assert tables == {"main.dim_customers", "main.fct_orders", "main.mart_nps", "main.publish_log",
                      "main.feed_coverage", "main.mart_status"}
    assert log == [
        (
            "build-1",
            date(2025, 3, 1),
            date(2025, 3, 1),
            3,
            json.dumps(report.row_counts, sort_keys=True),
            1,
            0,
        )
    ]
    assert amount_type == "DECIMAL(18,2)"
    assert storage == "v1.0.0+"  # readable by BI clients with an older DuckDB driver
    assert not list(tmp_path.glob(".serving.duckdb.*")) and not (tmp_path / "serving.duckdb.wal").exists()


def test_an_interrupted_build_leaves_nothing_behind(tmp_path):
    make_warehouse(tmp_path / "warehouse.duckdb", 1)
    stale = building_path(tmp_path / "serving.duckdb", "crashed-run")
    stale.write_bytes(b"half a file")
    publish(tmp_path, 1)
    assert not stale.exists()
    assert read_serving_state(tmp_path / "serving.duckdb")["build_id"] == "build-1"


def test_publish_log_is_carried_over_and_warn_checks_are_flagged(tmp_path):
    make_warehouse(tmp_path / "warehouse.duckdb", 1)
    publish(tmp_path, 1)
    make_warehouse(tmp_path / "warehouse.duckdb", 2)
    warn = {
        **PASSED,
        "raw/orders:volume": {
            "passed": False,
            "severity": "WARN",
            "run": "this build",
            "summary": "Check volume on raw/orders failed (WARN): ...",
        },
    }
    publish(tmp_path, 2, checks=warn)
    con = duckdb.connect(str(tmp_path / "serving.duckdb"), read_only=True)
    try:
        log = con.execute(
            "SELECT build_id, checks_failed_warn, flagged FROM publish_log ORDER BY published_at"
        ).fetchall()
    finally:
        con.close()
    assert log == [("build-1", 0, ""), ("build-2", 1, "raw/orders:volume")]
    state = read_serving_state(tmp_path / "serving.duckdb")
    assert state["build_id"] == "build-2" and state["row_counts"]["fct_orders"] == 1074


@pytest.mark.parametrize(
    "case",
    [
        "an ERROR check failed",
        "a name in clear",
        "a phone in clear",
        "a column named email",
        "a missing mart",
    ],
)
def test_a_failed_audit_publishes_nothing(tmp_path, case):
    make_warehouse(tmp_path / "warehouse.duckdb", 1)
    publish(tmp_path, 1)
    before = digest(tmp_path / "serving.duckdb")
    kwargs: dict = {}
    checks = None
    if case == "an ERROR check failed":
        make_warehouse(tmp_path / "warehouse.duckdb", 2)
        checks = {
            "raw/orders:order_value": {
                "passed": False,
                "severity": "ERROR",
                "run": "this build",
                "summary": "",
            }
        }
    elif case == "a name in clear":
        make_warehouse(tmp_path / "warehouse.duckdb", 2, leak="张伟7")
    elif case == "a phone in clear":
        make_warehouse(tmp_path / "warehouse.duckdb", 2, leak="13812340007")
    elif case == "a column named email":
        make_warehouse(tmp_path / "warehouse.duckdb", 2)
        con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
        con.execute("ALTER TABLE marts.dim_customers ADD COLUMN email VARCHAR")
        con.close()
    else:
        make_warehouse(tmp_path / "warehouse.duckdb", 2)
        kwargs["tables"] = ["dim_customers", "fct_orders", "mart_nps", "mart_churn_warning"]
    with pytest.raises(UserError, match="^Publishing stopped: "):
        publish(tmp_path, 2, checks=checks, **kwargs)
    assert digest(tmp_path / "serving.duckdb") == before
    assert not building_path(tmp_path / "serving.duckdb", "build-2").exists()
    assert read_serving_state(tmp_path / "serving.duckdb")["build_id"] == "build-1"


@pytest.mark.parametrize(
    ("case", "column_sql", "sentence"),
    [
        ("phones in a new column", "phone_list", r"dim_customers\.note holds 50 value\(s\) .* in clear"),
        ("phones as a plain SHA-256", "sha256(phone_list)", r"dim_customers\.note holds 50 .* unkeyed SHA-256"),
        ("phones as SHA-256 of the old dev salt", "sha256('salesmp-dev-salt-not-for-production|' || phone_list)",
         r"dim_customers\.note .* old development salt"),
    ],
)
def test_personal_data_in_any_column_stops_the_publish_naming_it(tmp_path, case, column_sql, sentence):
    """The value audit: a published text equal to a customer's phone in clear or hashed without the
    key stops the publish, whatever the column is called."""
    make_warehouse(tmp_path / "warehouse.duckdb", 1)
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("ALTER TABLE marts.dim_customers ADD COLUMN note VARCHAR")
    con.execute(
        f"UPDATE marts.dim_customers d SET note = {column_sql.replace('phone_list', 'c.phone')} "
        "FROM raw.customers c WHERE c.customer_id = d.customer_id"
    )
    con.close()
    with pytest.raises(UserError, match="^Publishing stopped: " + sentence):
        publish(tmp_path, 1)
    assert not (tmp_path / "serving.duckdb").exists()


def test_a_personal_column_not_on_the_allow_list_stops_the_publish(tmp_path):
    """A masked phone is fine in dim_customers (allow-listed), not under a new name or in another mart."""
    make_warehouse(tmp_path / "warehouse.duckdb", 1)
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("ALTER TABLE marts.fct_orders ADD COLUMN contact_mobile VARCHAR DEFAULT '138****0001'")
    con.close()
    with pytest.raises(UserError, match=r"^Publishing stopped: fct_orders\.contact_mobile looks like personal data"):
        publish(tmp_path, 1)
    assert not (tmp_path / "serving.duckdb").exists()


def test_readers_never_fail_nor_see_a_mix_during_publishes(tmp_path):
    """Two reader processes (a new connection per query; one connection reused for 25 queries) loop
    read-only queries while 25 builds are published, each changing every mart."""
    stop = tmp_path / "stop"
    readers = [
        subprocess.Popen(
            [
                sys.executable,
                READER,
                str(tmp_path / "serving.duckdb"),
                str(stop),
                str(tmp_path / f"reader{i}.json"),
                *flags,
            ]
        )
        for i, flags in enumerate([[], ["--persistent"]])
    ]
    try:
        for version in range(1, 26):
            make_warehouse(tmp_path / "warehouse.duckdb", version)
            publish(tmp_path, version)
            time.sleep(0.1)
    finally:
        stop.touch()
        for r in readers:
            r.wait(timeout=60)
    stats = [json.loads((tmp_path / f"reader{i}.json").read_text()) for i in range(2)]
    print("\nreaders during 25 publishes:", [{k: s[k] for k in ("queries", "failed", "mixed")} for s in stats])
    for s in stats:
        assert s["failed"] == 0, s["errors"][:5]
        assert s["mixed"] == 0
        assert s["queries"] > 50
        assert len(s["builds_seen"]) > 5
    assert read_serving_state(tmp_path / "serving.duckdb")["build_id"] == "build-25"


def _multiset_differences(serving: Path, warehouse: Path, table: str) -> int:
    con = duckdb.connect(str(serving), read_only=True)
    try:
        con.execute(f"ATTACH '{warehouse}' AS wh (READ_ONLY)")
        return con.execute(
            f"SELECT (SELECT count(*) FROM (SELECT * FROM main.{table} EXCEPT ALL SELECT * FROM wh.marts.{table}))"
            f" + (SELECT count(*) FROM (SELECT * FROM wh.marts.{table} EXCEPT ALL SELECT * FROM main.{table}))"
        ).fetchone()[0]
    finally:
        con.close()


def test_a_new_build_rewrites_only_the_changed_tables_and_months(tmp_path):
    """The next publish starts from a copy of the serving file: an unchanged mart is kept, a fact gets
    only its changed months, a changed mart is replaced, a mart that is gone is dropped; every table
    still equals the warehouse's row for row, and the log keeps every build."""
    warehouse = tmp_path / "warehouse.duckdb"
    make_warehouse(warehouse, 1)
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(
            "CREATE TABLE marts.fct_leads AS SELECT 'L' || i AS lead_id, DATE '2025-01-01' + CAST(i AS INTEGER) "
            "AS stage_date, CAST(i AS DECIMAL(18,2)) AS budget FROM range(90) t(i)"
        )
        con.execute("CREATE TABLE marts.mart_gone AS SELECT 1 AS x")
    finally:
        con.close()
    first = publish(tmp_path, 1)
    assert set(first.changes.values()) == {"replaced"}
    size_after_first = (tmp_path / "serving.duckdb").stat().st_size

    con = duckdb.connect(str(warehouse))
    try:
        con.execute("UPDATE marts.fct_leads SET budget = budget + 1 WHERE lead_id = 'L40'")  # 2025-02-10
        con.execute("INSERT INTO marts.fct_leads VALUES ('L90', DATE '2025-05-02', 1), ('L91', NULL, 2)")
        con.execute("DELETE FROM marts.fct_leads WHERE lead_id = 'L0'")  # 2025-01-01
        con.execute("UPDATE marts.mart_nps SET nps = 13 WHERE month = DATE '2025-03-02'")
        con.execute("DROP TABLE marts.mart_gone")
    finally:
        con.close()
    second = publish(tmp_path, 2, tables=["dim_customers", "fct_leads", "fct_orders", "mart_nps"])
    assert second.changes == {
        "dim_customers": "kept",
        "fct_orders": "kept",
        "fct_leads": "months , 2025-01, 2025-02, 2025-05",  # "" is the month of a NULL stage_date
        "mart_nps": "replaced",
    }
    serving = tmp_path / "serving.duckdb"
    assert read_serving_state(serving)["row_counts"] == {
        "dim_customers": 50, "fct_leads": 91, "fct_orders": 1037, "mart_nps": 11,
    }
    for table in second.changes:
        assert _multiset_differences(serving, warehouse, table) == 0, table
    con = duckdb.connect(str(serving), read_only=True)
    try:
        assert con.execute("SELECT build_id FROM publish_log ORDER BY published_at").fetchall() == [
            ("build-1",), ("build-2",)
        ]
    finally:
        con.close()

    # Many small builds do not grow the file without bound: freed blocks are reused.
    for version in range(3, 13):
        con = duckdb.connect(str(warehouse))
        try:
            con.execute(f"UPDATE marts.fct_leads SET budget = budget + {version} WHERE stage_date < DATE '2025-03-01'")
        finally:
            con.close()
        assert publish(tmp_path, version).changes["fct_leads"] == "months 2025-01, 2025-02"
    assert _multiset_differences(serving, warehouse, "fct_leads") == 0
    assert serving.stat().st_size <= 3 * size_after_first


def _sql(path: Path, *statements: str) -> None:
    con = duckdb.connect(str(path))
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()


def test_fingerprints_cover_every_column_whatever_its_name(tmp_path):
    """A mart with a column named like the row alias a fingerprint might use: a change in another
    column is still seen, so the mart is replaced and not kept."""
    warehouse = tmp_path / "warehouse.duckdb"
    make_warehouse(warehouse, 1)
    _sql(warehouse, "CREATE TABLE marts.mart_t AS SELECT 1 AS t, 'v1' AS label")
    publish(tmp_path, 1)
    _sql(warehouse, "UPDATE marts.mart_t SET label = 'v2'")
    assert publish(tmp_path, 2).changes["mart_t"] == "replaced"
    con = duckdb.connect(str(tmp_path / "serving.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT t, label FROM mart_t").fetchall() == [(1, "v2")]
    finally:
        con.close()


def test_a_kept_value_that_becomes_a_customers_name_stops_the_publish(tmp_path):
    """The personal-data audit reads kept marts too: a customer who arrives later turns a published
    value into personal data in clear, and the next publish stops."""
    warehouse = tmp_path / "warehouse.duckdb"
    make_warehouse(warehouse, 1)
    _sql(warehouse, "CREATE TABLE marts.mart_notes AS SELECT 'Alice Wang' AS note")
    publish(tmp_path, 1)
    before = digest(tmp_path / "serving.duckdb")
    _sql(warehouse, "INSERT INTO raw.customers VALUES ('C99', 'Alice Wang', '13900000000', 'a@example.com')")
    with pytest.raises(UserError, match=r"^Publishing stopped: mart_notes\.note holds 1 value"):
        publish(tmp_path, 2)
    assert digest(tmp_path / "serving.duckdb") == before


def test_a_serving_file_with_other_objects_is_not_reused(tmp_path):
    """A view a read-write client left in the serving file: the next build starts from an empty file
    (the view is gone) and still carries the log over."""
    make_warehouse(tmp_path / "warehouse.duckdb", 1)
    publish(tmp_path, 1)
    _sql(tmp_path / "serving.duckdb", "CREATE VIEW my_view AS SELECT * FROM mart_nps")
    second = publish(tmp_path, 2)
    assert set(second.changes.values()) == {"replaced"}
    con = duckdb.connect(str(tmp_path / "serving.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM duckdb_views() WHERE NOT internal").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM publish_log").fetchone()[0] == 2
    finally:
        con.close()
