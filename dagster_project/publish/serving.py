"""Write-audit-publish of the marts to the serving database (SALESMP_SERVING) that BI tools read.

DuckDB allows one writing process per file, and a reader cannot open a file another process is
writing; readers open the serving file read-only. So the serving file is never written in place:

1. write: a new file beside it (`.serving.duckdb.<build>.building`) gets a copy of every mart of the
   warehouse (schema `marts` only: no raw or staging table, personal data only hashed or masked)
   and `publish_log`: the previous serving file's rows plus one for this build;
2. audit: row counts equal the warehouse's, no column carries personal data in clear (by name, or a
   value equal to a name, phone or e-mail of raw.customers), the new log row is there;
3. publish: CHECKPOINT and close the new file (no WAL is left beside it), fsync it, and rename it
   over the serving file (`os.replace`, atomic on one file system). A reader that opened the old
   file keeps reading the old snapshot until it closes its connection; one that opens after the
   rename sees the new one. No reader ever sees part of a build.

Anything that fails before the rename deletes the new file and leaves the serving file untouched.

Only what changed is rewritten. When a serving file exists, the new file starts as a byte copy of
it, and each mart is compared with the warehouse by its columns and fingerprint (row count and the
sum of DuckDB's `hash` of the rows, independent of row order), per month of the event date for the
large facts (FACT_MONTH_COLUMN) and per table otherwise. An equal table is kept as it is; a fact
gets only its changed months deleted and re-inserted; any other changed table is replaced. The
audit then requires every mart's fingerprint in the new file to equal the warehouse's, so the
result is the same as a fresh copy. The personal-data audit reads every mart, kept or written,
against today's customers (a kept value can become a leak when a customer with that name arrives).
The previous file is not reused when it holds anything but tables in `main` (a view or macro a
read-write client left there) or was written in another storage version than SERVING_STORAGE_VERSION:
the build then starts from an empty file, as the first one does.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from dagster_project.errors import UserError
from dagster_project.sql import ident, literal, table_exists

PUBLISH_LOG_DDL = """
CREATE TABLE IF NOT EXISTS main.publish_log (
    build_id VARCHAR,            -- the Dagster run id of the build
    published_at TIMESTAMPTZ,
    partition_first DATE,        -- the arrival days the build covered
    partition_last DATE,
    marts INTEGER,               -- tables published
    row_counts VARCHAR,          -- JSON: mart -> rows
    checks_passed INTEGER,
    checks_failed_warn INTEGER,  -- WARN failures: published, flagged
    flagged VARCHAR,             -- the WARN checks that failed, `asset:check` separated by '; '
    check_results VARCHAR,       -- JSON: `asset:check` -> {passed, severity, summary}
    acceptances VARCHAR          -- JSON: the accepted exceptions the build used (asset, check, day, reason, who, at)
)
"""

# The serving file is written in the storage format of DuckDB 1.0, so BI clients whose DuckDB driver
# (DBeaver's JDBC, an older CLI) predates ours can still open it; the marts need nothing newer.
SERVING_STORAGE_VERSION = "v1.0.0"

# The facts large enough to be updated month by month (and exported split by month): the local
# event date whose month is the unit. Only tables without a column of their own named `month`.
FACT_MONTH_COLUMN = {
    "fct_orders": "order_date",
    "fct_leads": "stage_date",
    "fct_survey_responses": "submitted_date",
    "fct_channel_activity": "activity_date",
    "fct_complaints": "opened_date",
}
# Fingerprint units: the whole table, and the month of rows whose event date is NULL.
WHOLE_TABLE = "*"
NULL_MONTH = ""

# The allow-list of personal columns that reach the serving database (docs/bi.md): masks for display
# and keyed pseudonyms (HMAC-SHA256 under the PII key) for joining and counting distinct people.
PERSONAL_COLUMNS_ALLOWED = {
    "dim_customers": frozenset(
        {"name_masked", "phone_masked", "email_masked", "name_pseudonym", "phone_pseudonym", "email_pseudonym"}
    ),
}
# Column names that mean personal data: any such column must be on the allow-list to be published.
PERSONAL_NAME_RE = re.compile(
    r"(^|_)(phone|mobile|tel|telephone|email|e_mail|mail|wechat|address|id_card|idcard|passport)(_|$)"
    r"|^(name|customer_name|contact_name|full_name|person_name|real_name)(_|$)"
)
# Personal data of the customers feed in the forms a reader could match without the key: in clear,
# as unkeyed digests (SHA-256, MD5, raw or lower-cased and trimmed), as the retired salted SHA-256 of
# the old development salt, and as a pseudonym under the public development key. A published text
# equal to one of these is a leak.
_PII_FIELDS = "unnest([trim(name), trim(phone), trim(email)])"


def _pii_values_sql(dev_ipad: str, dev_opad: str) -> str:
    from dagster_project.pii_key import OLD_DEV_SALT

    norm = "lower(trim(v))"
    forms = {
        "in clear": "v",
        "as an unkeyed SHA-256": f"sha256(v), sha256({norm})",
        "as an unkeyed MD5": f"md5(v), md5({norm})",
        "as a SHA-256 under the old development salt": f"sha256({literal(OLD_DEV_SALT + '|')} || {norm})",
        "as a pseudonym under the public development key": (
            f"sha256(unhex({literal(dev_opad)}) || unhex(sha256(unhex({literal(dev_ipad)}) || encode({norm}))))"
        ),
    }
    selects = " UNION ALL ".join(
        f"SELECT {literal(form)} AS form, unnest([{exprs}]) AS h FROM fields" for form, exprs in forms.items()
    )
    return (
        f"WITH fields AS (SELECT DISTINCT v FROM (SELECT {_PII_FIELDS} AS v FROM wh.raw.customers) "
        f"WHERE v IS NOT NULL AND length(v) >= 2) SELECT DISTINCT form, h AS v FROM ({selects})"
    )


@dataclass
class PublishReport:
    serving: Path
    build_id: str
    row_counts: dict[str, int]
    log_rows: int
    seconds: float
    checks: dict[str, Any] = field(default_factory=dict)
    # table -> "kept", "replaced" or "months YYYY-MM, ...": what this build wrote of it
    changes: dict[str, str] = field(default_factory=dict)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def serving_file_mode() -> int:
    """The permissions of the serving file: SALESMP_SERVING_MODE (octal), default 0644 (readable by all)."""
    text = os.environ.get("SALESMP_SERVING_MODE") or "0644"
    if not re.fullmatch(r"0?[0-7]{3}", text) or int(text, 8) & 0o400 == 0:
        raise UserError(f"SALESMP_SERVING_MODE={text!r} is not an octal file mode such as 0644 or 0640.")
    return int(text, 8)


def building_path(serving: Path, build_id: str) -> Path:
    return serving.with_name(f".{serving.name}.{build_id}.building")


def warehouse_marts(con: duckdb.DuckDBPyConnection, schema: str = "marts", catalog: str = "wh") -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? AND table_schema = ? "
            "ORDER BY table_name",
            [catalog, schema],
        ).fetchall()
    ]


def month_of(date_column: str) -> str:
    """SQL for the fingerprint unit of a row: the YYYY-MM of `date_column`, NULL_MONTH when it is NULL."""
    return f"coalesce(strftime({ident(date_column)}, '%Y-%m'), {literal(NULL_MONTH)})"


def fingerprints(
    con: duckdb.DuckDBPyConnection, relation: str, date_column: str | None = None
) -> dict[str, dict[str, Any]]:
    """Rows and content fingerprint (sum of the rows' hashes, independent of row order) of `relation`,
    per month of `date_column` or, without one, for the whole table (key WHOLE_TABLE). A row's hash
    covers every column by position (`hash(*COLUMNS(*))`); the column names and types are compared
    separately (`columns_of`)."""
    if date_column is None:
        rows, fingerprint = con.execute(
            f"SELECT count(*), coalesce(sum(hash(*COLUMNS(*))), 0)::VARCHAR FROM {relation}"
        ).fetchone()
        return {WHOLE_TABLE: {"rows": rows, "fingerprint": fingerprint}}
    return {
        unit: {"rows": rows, "fingerprint": fingerprint}
        for unit, rows, fingerprint in con.execute(
            f"SELECT {month_of(date_column)} AS unit, count(*), sum(hash(*COLUMNS(*)))::VARCHAR FROM {relation} "
            "GROUP BY unit ORDER BY unit"
        ).fetchall()
    }


def columns_of(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]


# Anything in a serving file besides the tables of `main`: a copy holding one is not reused.
FOREIGN_OBJECTS_SQL = """
SELECT (SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name <> 'main')
     + (SELECT count(*) FROM duckdb_views() WHERE database_name = current_database() AND NOT internal)
     + (SELECT count(*) FROM duckdb_sequences() WHERE database_name = current_database())
     + (SELECT count(*) FROM duckdb_functions() WHERE database_name = current_database() AND NOT internal)
"""


def _open_copy_of(serving: Path, new: Path, config: dict[str, Any]) -> duckdb.DuckDBPyConnection | None:
    """Copy the serving file to `new` and open it; None (and no copy left) when it cannot be opened,
    holds anything but tables in `main`, or has another storage version than SERVING_STORAGE_VERSION."""
    shutil.copyfile(serving, new)
    con = None
    try:
        con = duckdb.connect(str(new), config=config)
        tags = con.execute("SELECT tags FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
        version = (tags[0] or {}).get("storage_version", "") if tags else ""
        if version.rstrip("+") == SERVING_STORAGE_VERSION and not con.execute(FOREIGN_OBJECTS_SQL).fetchone()[0]:
            return con
    except duckdb.Error:
        pass
    if con is not None:
        con.close()
    for leftover in (new, Path(f"{new}.wal")):
        leftover.unlink(missing_ok=True)
    return None


@dataclass
class _Plan:
    """How one mart gets from the warehouse into the new file: "keep", "months" (only `months` are
    deleted and re-inserted) or "all"; with its month column and, when computed, the warehouse
    table's fingerprints."""

    how: str
    date_column: str | None
    months: list[str] = field(default_factory=list)
    source: dict[str, dict[str, Any]] | None = None

    def describe(self) -> str:
        return {"keep": "kept", "all": "replaced"}.get(self.how) or "months " + ", ".join(self.months)


def _plan(con: duckdb.DuckDBPyConnection, table: str, present: bool) -> _Plan:
    source_columns = columns_of(con, f"wh.marts.{ident(table)}")
    # The fact's month column (FACT_MONTH_COLUMN) when the warehouse table has it as a DATE.
    date_column = FACT_MONTH_COLUMN.get(table)
    date_column = date_column if (date_column, "DATE") in source_columns else None
    if not present or columns_of(con, f"main.{ident(table)}") != source_columns:
        return _Plan("all", date_column)
    wanted = fingerprints(con, f"wh.marts.{ident(table)}", date_column)
    have = fingerprints(con, f"main.{ident(table)}", date_column)
    changed = sorted(u for u in wanted.keys() | have.keys() if wanted.get(u) != have.get(u))
    if not changed:
        return _Plan("keep", date_column, source=wanted)
    if date_column is None:
        return _Plan("all", date_column, source=wanted)
    return _Plan("months", date_column, changed, wanted)


def _audit_pii(con: duckdb.DuckDBPyConnection, tables: list[str]) -> None:
    """Raise when a published column is personal data that is not on the allow-list, or holds a
    customer's name, phone or e-mail in clear or in a form a reader can match without the key."""
    from dagster_project.pii_key import DEV_KEY, hmac_pads

    columns = con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = current_database() AND table_schema = 'main' ORDER BY table_name, ordinal_position"
    ).fetchall()
    columns = [(t, c, d) for t, c, d in columns if t in tables]
    named = [
        f"{t}.{c}"
        for t, c, _ in columns
        if PERSONAL_NAME_RE.search(c.lower()) and c not in PERSONAL_COLUMNS_ALLOWED.get(t, ())
    ]
    if named:
        raise UserError(
            f"Publishing stopped: {', '.join(named)} looks like personal data and is not on the allow-list of "
            "published personal columns (PERSONAL_COLUMNS_ALLOWED, docs/bi.md)."
        )
    has_customers = table_exists(con, "raw", "customers", catalog="wh")
    if not has_customers:
        return
    con.execute(f"CREATE TEMP TABLE pii_values AS {_pii_values_sql(*hmac_pads(DEV_KEY.encode()))}")
    for table, column, data_type in columns:
        if data_type != "VARCHAR":
            continue
        hit = con.execute(
            f"SELECT p.form, count(*) FROM main.{ident(table)} t JOIN pii_values p ON t.{ident(column)} = p.v "
            "GROUP BY p.form ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
        if hit:
            raise UserError(
                f"Publishing stopped: {table}.{column} holds {hit[1]:,} value(s) equal to a customer's name, "
                f"phone or e-mail {hit[0]}."
            )
    con.execute("DROP TABLE pii_values")


def publish_marts(
    *,
    warehouse: Path,
    serving: Path,
    build_id: str,
    partition_first: date | None,
    partition_last: date | None,
    check_results: dict[str, dict[str, Any]],
    tables: list[str] | None = None,
    tz: str = "Asia/Shanghai",
    memory_limit: str = "1GB",
    threads: int = 2,
) -> PublishReport:
    """Write the marts to a new file, audit it, and rename it over `serving`. See the module doc."""
    started = datetime.now(UTC)
    errors = sorted(k for k, r in check_results.items() if not r["passed"] and r["severity"] == "ERROR")
    if errors:
        raise UserError(f"Publishing stopped: the ERROR check {errors[0]} failed in this build.")
    serving.parent.mkdir(parents=True, exist_ok=True)
    new = building_path(serving, build_id)
    # One build at a time: whatever an interrupted build left beside the serving file is garbage.
    for leftover in serving.parent.glob(f".{serving.name}.*.building*"):
        leftover.unlink(missing_ok=True)
    config = {"memory_limit": memory_limit, "threads": threads}
    try:
        con = _open_copy_of(serving, new, config) if serving.exists() else None
        copied_previous = con is not None
        if con is None:
            con = duckdb.connect(str(new), config={**config, "storage_compatibility_version": SERVING_STORAGE_VERSION})
        try:
            con.execute(f"SET TimeZone = {literal(tz)}")
            con.execute(f"ATTACH {literal(str(warehouse))} AS wh (READ_ONLY)")
            available = warehouse_marts(con)
            wanted = available if tables is None else list(tables)
            missing = [t for t in wanted if t not in available]
            if missing:
                raise UserError(
                    f"Publishing stopped: the warehouse has no table marts.{missing[0]}"
                    + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
                    + "; the dbt build did not produce it."
                )
            database = con.execute("SELECT current_database()").fetchone()[0]
            present = set(warehouse_marts(con, "main", database)) - {"publish_log"}
            plans = {t: _plan(con, t, t in present) for t in wanted}
            # Drop first and checkpoint, so the copies below reuse the freed blocks of the file.
            for table in sorted(present):
                if table not in plans or plans[table].how == "all":
                    con.execute(f"DROP TABLE main.{ident(table)}")
            con.execute("CHECKPOINT")
            for table, plan in plans.items():
                source = f"wh.marts.{ident(table)}"
                if plan.how == "all":
                    con.execute(f"CREATE TABLE main.{ident(table)} AS SELECT * FROM {source}")
                elif plan.how == "months":
                    rows = f"{month_of(plan.date_column)} IN ({', '.join(literal(m) for m in plan.months)})"
                    con.execute(f"DELETE FROM main.{ident(table)} WHERE {rows}")
                    con.execute(f"INSERT INTO main.{ident(table)} SELECT * FROM {source} WHERE {rows}")
            row_counts: dict[str, int] = {}
            for table, plan in plans.items():
                source = plan.source or fingerprints(con, f"wh.marts.{ident(table)}", plan.date_column)
                # A kept table's fingerprints were found equal to the warehouse's in _plan.
                published = (
                    source if plan.how == "keep" else fingerprints(con, f"main.{ident(table)}", plan.date_column)
                )
                copied, expected = (sum(u["rows"] for u in f.values()) for f in (published, source))
                if copied != expected:
                    raise UserError(f"Publishing stopped: {table} copied {copied:,} rows of {expected:,}.")
                if published != source:
                    raise UserError(f"Publishing stopped: {table} in the new serving file differs from the warehouse.")
                row_counts[table] = copied
            _audit_pii(con, wanted)
            from dagster_project.publish.coverage import write_coverage

            write_coverage(con, row_counts)  # feed_coverage, mart_status: what is empty and why
            con.execute("DETACH wh")

            # The previous build's log rows are carried over under today's columns: from the copy
            # (renamed aside) or, when the build started from an empty file, from the serving file.
            previous_log = None
            if copied_previous:
                con.execute("ALTER TABLE IF EXISTS main.publish_log RENAME TO publish_log_previous")
                previous_log = (database, "publish_log_previous")
            elif serving.exists():
                try:
                    con.execute(f"ATTACH {literal(str(serving))} AS prev (READ_ONLY)")
                except duckdb.Error as exc:
                    raise UserError(
                        f"Publishing stopped: the serving database {serving} cannot be read to carry over "
                        f"its publish_log ({str(exc).splitlines()[0]})."
                    ) from exc
                previous_log = ("prev", "publish_log")
            con.execute(PUBLISH_LOG_DDL)
            if previous_log is not None:
                catalog, table = previous_log
                if table in warehouse_marts(con, "main", catalog):
                    relation = f"{ident(catalog)}.main.{ident(table)}"
                    con.execute(f"INSERT INTO main.publish_log BY NAME SELECT * FROM {relation}")
                if copied_previous:
                    con.execute("DROP TABLE IF EXISTS main.publish_log_previous")
                else:
                    con.execute("DETACH prev")
            flagged = sorted(k for k, r in check_results.items() if not r["passed"] and r["severity"] == "WARN")
            con.execute(
                "INSERT INTO main.publish_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    build_id,
                    started,
                    partition_first,
                    partition_last,
                    len(row_counts),
                    json.dumps(row_counts, sort_keys=True),
                    sum(1 for r in check_results.values() if r["passed"]),
                    len(flagged),
                    "; ".join(flagged),
                    json.dumps(check_results, sort_keys=True, ensure_ascii=False),
                    json.dumps(
                        [a for r in check_results.values() for a in r.get("acceptances") or []],
                        sort_keys=True, ensure_ascii=False,
                    ),
                ],
            )
            log_rows, logged = con.execute(
                "SELECT count(*), count(*) FILTER (WHERE build_id = ?) FROM main.publish_log", [build_id]
            ).fetchone()
            if logged != 1:
                raise UserError(f"Publishing stopped: publish_log has {logged} rows for build {build_id}.")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        if Path(f"{new}.wal").exists():
            raise UserError(f"Publishing stopped: {new.name} still has a write-ahead log after CHECKPOINT.")
        os.chmod(new, serving_file_mode())  # BI readers' access, as configured
        _fsync(new)
        os.replace(new, serving)
        _fsync(serving.parent)
    except BaseException:
        for leftover in (new, Path(f"{new}.wal")):
            leftover.unlink(missing_ok=True)
        raise
    return PublishReport(
        serving=serving,
        build_id=build_id,
        row_counts=row_counts,
        log_rows=log_rows,
        seconds=(datetime.now(UTC) - started).total_seconds(),
        checks=check_results,
        changes={t: plan.describe() for t, plan in plans.items()},
    )


def read_serving_state(serving: Path) -> dict[str, Any]:
    """What a BI reader sees: the newest build id, the marts and their row counts (read-only)."""
    con = duckdb.connect(str(serving), read_only=True)
    try:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
                "AND table_name NOT IN ('publish_log', 'feed_coverage', 'mart_status') ORDER BY 1"
            ).fetchall()
        ]
        counts = {t: con.execute(f"SELECT count(*) FROM main.{ident(t)}").fetchone()[0] for t in tables}
        build = con.execute(
            "SELECT build_id, row_counts FROM main.publish_log ORDER BY published_at DESC LIMIT 1"
        ).fetchone()
    finally:
        con.close()
    return {
        "build_id": build[0] if build else None,
        "logged_counts": json.loads(build[1]) if build else {},
        "row_counts": counts,
    }
