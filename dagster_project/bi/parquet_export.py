"""Parquet exports of the serving database, for BI tools that read files instead of a database.

The serving file (SALESMP_SERVING) is the BI contract: its tables are the marts (dims, facts, marts)
with stable names and types. This module copies each of them, read-only, to
`$SALESMP_SITE/parquet/<table>/`: the large facts partitioned by the month of their event date
(hive style, `month=YYYY-MM/`), every other table as one file, and `_manifest.json` beside them
(build id, and per table its columns and types, rows and files).

`$SALESMP_SITE/parquet` is a symbolic link to one complete export under `$SALESMP_SITE/.parquet/`.
An export is written into a new folder there, checked against the serving tables, and then the link
is swapped in one `os.replace` (atomic on one file system): a file reader sees either the previous
export or the new one, never half of each. The previous export is kept for readers still on it;
older ones are deleted.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from dagster_project.errors import UserError

# The facts large enough to split by month, and the local event date whose month names the folder.
# Only tables without a column of their own named `month` (the hive key would shadow it for readers).
MONTHLY_PARTITION_DATE = {
    "fct_orders": "order_date",
    "fct_leads": "stage_date",
    "fct_survey_responses": "submitted_date",
    "fct_channel_activity": "activity_date",
    "fct_complaints": "opened_date",
}
PARTITION_KEY = "month"
MANIFEST = "_manifest.json"
# What serving holds beside the marts: bookkeeping of the publishes, not part of the BI tables.
NOT_EXPORTED = {"publish_log"}


@dataclass
class ExportReport:
    root: Path  # the link readers use: $SALESMP_SITE/parquet
    target: Path  # the export folder it points to
    build_id: str
    manifest: dict[str, Any]
    seconds: float


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def serving_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database() "
            "AND table_schema = 'main' ORDER BY table_name"
        ).fetchall()
        if r[0] not in NOT_EXPORTED
    ]


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[dict[str, str]]:
    return [{"name": r[0], "type": r[1]} for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]


def _export_table(con: duckdb.DuckDBPyConnection, table: str, folder: Path) -> dict[str, Any]:
    """COPY one table to `folder/<table>/` and check the files against it; return its manifest entry."""
    source = f"main.{_ident(table)}"
    columns = _columns(con, source)
    rows = con.execute(f"SELECT count(*) FROM {source}").fetchone()[0]
    out = folder / table
    date_column = MONTHLY_PARTITION_DATE.get(table)
    names = {c["name"]: c["type"] for c in columns}
    if date_column is not None and (names.get(date_column) != "DATE" or PARTITION_KEY in names):
        raise UserError(
            f"Exporting stopped: {table} cannot be split by month of {date_column} (it needs that DATE "
            f"column and no column named {PARTITION_KEY}); change MONTHLY_PARTITION_DATE in "
            "dagster_project/bi/parquet_export.py."
        )
    if date_column is None:
        out.mkdir(parents=True)
        con.execute(f"COPY {source} TO {_q(str(out / f'{table}.parquet'))} (FORMAT parquet, COMPRESSION snappy)")
    else:
        con.execute(
            f"COPY (SELECT *, strftime({_ident(date_column)}, '%Y-%m') AS {PARTITION_KEY} FROM {source}) "
            f"TO {_q(str(out))} (FORMAT parquet, COMPRESSION snappy, PARTITION_BY ({PARTITION_KEY}), "
            f"FILENAME_PATTERN {_q(table + '_{i}')})"
        )
    files = sorted(p.relative_to(folder).as_posix() for p in out.rglob("*.parquet"))
    # Read back without the hive key: the files must hold exactly the table's columns and rows.
    scan = f"read_parquet({_q(str(out) + '/**/*.parquet')}, hive_partitioning = false)"
    written_rows = con.execute(f"SELECT count(*) FROM {scan}").fetchone()[0] if files else 0
    written_columns = _columns(con, scan) if files else columns
    if written_rows != rows or written_columns != columns:
        raise UserError(
            f"Exporting stopped: the Parquet files of {table} hold {written_rows:,} rows of {rows:,}"
            + ("" if written_columns == columns else " and other columns or types than the table")
            + "."
        )
    return {
        "table": table,
        "rows": rows,
        "columns": columns,
        "partitioned_by": (
            None
            if date_column is None
            else {"key": PARTITION_KEY, "format": "YYYY-MM", "month_of": date_column, "style": "hive"}
        ),
        "files": files,
    }


def _swap_link(link: Path, target: Path) -> None:
    """Point `link` at `target` in one rename (a real folder left at `link` by hand is moved aside)."""
    relative = os.path.relpath(target, link.parent)
    if link.exists() and not link.is_symlink():
        link.rename(target.parent / f"replaced-folder-{target.name}")
    staged = link.with_name(f".{link.name}.link-{os.getpid()}")
    staged.unlink(missing_ok=True)
    os.symlink(relative, staged, target_is_directory=True)
    os.replace(staged, link)


def export_parquet(
    *,
    serving: Path,
    site: Path,
    tz: str = "Asia/Shanghai",
    memory_limit: str = "1GB",
    threads: int = 2,
) -> ExportReport:
    """Export every table of `serving` to `site/parquet` (see the module doc)."""
    started = datetime.now(UTC)
    if not serving.exists():
        raise UserError(f"The serving database {serving} does not exist yet; run `salesmp run` to publish it.")
    link = site / "parquet"
    builds = site / ".parquet"
    builds.mkdir(parents=True, exist_ok=True)
    current = link.resolve() if link.is_symlink() else None
    # Whatever is not the live export is an older one or the leftover of an interrupted export.
    for old in builds.iterdir():
        if old != current:
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    # One read-only connection: every table comes from the same published build, even when a newer
    # serving file is renamed into place meanwhile.
    con = duckdb.connect(
        str(serving), read_only=True, config={"memory_limit": memory_limit, "threads": threads}
    )
    target = None
    try:
        con.execute(f"SET TimeZone = {_q(tz)}")
        build = con.execute(
            "SELECT build_id, published_at FROM main.publish_log ORDER BY published_at DESC LIMIT 1"
        ).fetchone()
        if build is None:
            raise UserError(f"The serving database {serving} has no publish_log row; nothing to export.")
        build_id, published_at = build
        target = builds / f"{started:%Y%m%dT%H%M%S%fZ}-{build_id}"
        target.mkdir()
        tables = [_export_table(con, t, target) for t in serving_tables(con)]
    except BaseException:
        if target is not None:
            shutil.rmtree(target, ignore_errors=True)
        raise
    finally:
        con.close()
    manifest = {
        "build_id": build_id,
        "published_at": published_at.isoformat(),
        "exported_at": datetime.now(UTC).isoformat(),
        "serving": str(serving),
        "tables": tables,
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    _swap_link(link, target)
    return ExportReport(
        root=link,
        target=target,
        build_id=build_id,
        manifest=manifest,
        seconds=(datetime.now(UTC) - started).total_seconds(),
    )
