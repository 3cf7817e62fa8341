"""Parquet exports of the serving database, for BI tools that read files instead of a database.

The serving file (SALESMP_SERVING) is the BI contract: its tables are the marts (dims, facts, marts)
with stable names and types. This module copies each of them, read-only, to
`$SALESMP_SITE/parquet/<table>/`: the large facts partitioned by the month of their event date
(hive style, `month=YYYY-MM/`), every other table as one file, `_manifest.json` beside them
(build id, and per table its columns and types, rows and files) and `_build.json`, the build id and
publish time alone (BUILD_MARKER): the same fields as the serving file's newest `publish_log` row, so
a reader compares the two to know both hold one build. `catch_up_export` re-exports when they differ
(a run stopped between the serving rename and its export); `salesmp run` calls it before it starts.

`$SALESMP_SITE/parquet` is a symbolic link to one complete export under `$SALESMP_SITE/.parquet/`.
An export is written into a new folder there, checked against the serving tables, and then the link
is swapped in one `os.replace` (atomic on one file system): a file reader sees either the previous
export or the new one, never half of each. The previous export is kept for readers still on it;
older ones are deleted.

Only what changed is written. Each export unit (an unpartitioned table, or one month of a
partitioned fact) gets a fingerprint in the manifest: its row count and the sum of DuckDB's `hash`
of its rows, which does not depend on row order. A unit whose columns, rows and fingerprint equal
the live export's is hard-linked from it (Parquet files are never rewritten in place, so two
exports can share one), and only the other units are written. A daily run thus rewrites the
months it touched, not two years of orders. Rows whose date is NULL are always rewritten.
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
from dagster_project.publish.serving import (
    FACT_MONTH_COLUMN,
    NULL_MONTH,
    WHOLE_TABLE,
    columns_of,
    fingerprints,
    month_of,
)
from dagster_project.sql import ident, literal

# The facts large enough to split by month, and the local event date whose month names the folder:
# the same facts that publishing updates month by month.
MONTHLY_PARTITION_DATE = FACT_MONTH_COLUMN
PARTITION_KEY = "month"
MANIFEST = "_manifest.json"
BUILD_MARKER = "_build.json"
# What serving holds beside the marts: bookkeeping of the publishes, not part of the BI tables.
NOT_EXPORTED = {"publish_log"}


@dataclass
class ExportReport:
    root: Path  # the link readers use: $SALESMP_SITE/parquet
    target: Path  # the export folder it points to
    build_id: str
    manifest: dict[str, Any]
    seconds: float


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
    return [{"name": name, "type": type_} for name, type_ in columns_of(con, relation)]


def _unit_of(table: str, relative: str) -> str:
    """The unit a file of `table` belongs to: its hive folder's month, or the whole table."""
    parts = relative.split("/")
    if len(parts) == 3 and parts[1].startswith(f"{PARTITION_KEY}="):
        value = parts[1].split("=", 1)[1]
        # DuckDB writes rows whose key is NULL under the hive default partition name.
        return NULL_MONTH if value in ("__HIVE_DEFAULT_PARTITION__", "NULL") else value
    return WHOLE_TABLE


def _reusable(previous: dict[str, Any] | None, entry: dict[str, Any], unit: str, base: Path | None) -> list[str]:
    """The live export's files of `unit` when it holds exactly these rows; else []."""
    if previous is None or base is None or unit == NULL_MONTH:
        return []
    if previous.get("columns") != entry["columns"] or previous.get("partitioned_by") != entry["partitioned_by"]:
        return []
    before = (previous.get("units") or {}).get(unit)
    if before is None or before.get("rows") != entry["units"][unit]["rows"]:
        return []
    if before.get("fingerprint") != entry["units"][unit]["fingerprint"]:
        return []
    files = before.get("files") or []
    return files if files and all((base / f).is_file() for f in files) else []


def _link(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:  # another file system, or links not allowed: a copy holds the same bytes
        shutil.copy2(src, dst)


def _export_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    folder: Path,
    previous: dict[str, Any] | None = None,
    previous_folder: Path | None = None,
) -> dict[str, Any]:
    """Write one table to `folder/<table>/`, reusing the live export's files of the units that did not
    change (`previous` is its manifest entry, `previous_folder` its folder), and check the files
    against the table; return the table's manifest entry."""
    source = f"main.{ident(table)}"
    columns = _columns(con, source)
    out = folder / table
    date_column = MONTHLY_PARTITION_DATE.get(table)
    names = {c["name"]: c["type"] for c in columns}
    if date_column is not None and (names.get(date_column) != "DATE" or PARTITION_KEY in names):
        raise UserError(
            f"Exporting stopped: {table} cannot be split by month of {date_column} (it needs that DATE "
            f"column and no column named {PARTITION_KEY}); change MONTHLY_PARTITION_DATE in "
            "dagster_project/bi/parquet_export.py."
        )
    entry: dict[str, Any] = {
        "table": table,
        "columns": columns,
        "partitioned_by": (
            None
            if date_column is None
            else {"key": PARTITION_KEY, "format": "YYYY-MM", "month_of": date_column, "style": "hive"}
        ),
        "units": fingerprints(con, source, date_column),
    }
    rows = sum(u["rows"] for u in entry["units"].values())
    reuse = {unit: _reusable(previous, entry, unit, previous_folder) for unit in entry["units"]}
    write = [unit for unit, files in reuse.items() if not files]
    if date_column is None:
        out.mkdir(parents=True)
        if write:
            target = literal(str(out / f"{table}.parquet"))
            con.execute(f"COPY {source} TO {target} (FORMAT parquet, COMPRESSION snappy)")
    elif write:
        month = month_of(date_column)
        con.execute(
            f"COPY (SELECT *, strftime({ident(date_column)}, '%Y-%m') AS {PARTITION_KEY} FROM {source} "
            f"WHERE {month} IN ({', '.join(literal(u) for u in write)})) "
            f"TO {literal(str(out))} (FORMAT parquet, COMPRESSION snappy, PARTITION_BY ({PARTITION_KEY}), "
            f"FILENAME_PATTERN {literal(table + '_{i}')})"
        )
    else:
        out.mkdir(parents=True)
    for files in reuse.values():
        for relative in files:
            _link(previous_folder / relative, folder / relative)
    files = sorted(p.relative_to(folder).as_posix() for p in out.rglob("*.parquet"))
    for unit in entry["units"].values():
        unit["files"] = []
    for relative in files:
        unit = entry["units"].get(_unit_of(table, relative))
        if unit is None:
            raise UserError(f"Exporting stopped: {relative} belongs to no month of {table}.")
        unit["files"].append(relative)
    # Read back without the hive key: the files must hold exactly the table's columns, and each unit's
    # files (written or linked) exactly its rows.
    pattern = literal(str(out) + "/**/*.parquet")
    file_rows: dict[str, int] = {}
    if files:
        for path, n in con.execute(f"SELECT file_name, num_rows FROM parquet_file_metadata({pattern})").fetchall():
            relative = Path(path).relative_to(folder).as_posix()
            file_rows[relative] = file_rows.get(relative, 0) + n
    written_rows = sum(file_rows.values())
    written_columns = _columns(con, f"read_parquet({pattern}, hive_partitioning = false)") if files else columns
    wrong_units = [
        unit for unit, u in entry["units"].items() if sum(file_rows.get(f, 0) for f in u["files"]) != u["rows"]
    ]
    if written_rows != rows or written_columns != columns or wrong_units:
        raise UserError(
            f"Exporting stopped: the Parquet files of {table} hold {written_rows:,} rows of {rows:,}"
            + ("" if written_columns == columns else " and other columns or types than the table")
            + (f" (the files of {wrong_units[0]!r} do not hold its rows)" if wrong_units else "")
            + "."
        )
    return {
        **entry,
        "rows": rows,
        "files": files,
        "reused_files": sum(len(f) for f in reuse.values()),
        "written_units": sorted(write),
    }


def _live_manifest(current: Path | None) -> dict[str, dict[str, Any]]:
    """The live export's manifest entries by table ({} when there is none or it cannot be read)."""
    if current is None:
        return {}
    try:
        manifest = json.loads((current / MANIFEST).read_text())
        return {t["table"]: t for t in manifest["tables"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


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
    con = duckdb.connect(str(serving), read_only=True, config={"memory_limit": memory_limit, "threads": threads})
    target = None
    try:
        con.execute(f"SET TimeZone = {literal(tz)}")
        build = con.execute(
            "SELECT build_id, published_at FROM main.publish_log ORDER BY published_at DESC LIMIT 1"
        ).fetchone()
        if build is None:
            raise UserError(f"The serving database {serving} has no publish_log row; nothing to export.")
        build_id, published_at = build
        target = builds / f"{started:%Y%m%dT%H%M%S%fZ}-{build_id}"
        target.mkdir()
        live = _live_manifest(current)
        tables = [_export_table(con, t, target, live.get(t), current) for t in serving_tables(con)]
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
    marker = {key: manifest[key] for key in ("build_id", "published_at", "exported_at")}
    (target / BUILD_MARKER).write_text(json.dumps(marker, indent=2) + "\n")
    _swap_link(link, target)
    return ExportReport(
        root=link,
        target=target,
        build_id=build_id,
        manifest=manifest,
        seconds=(datetime.now(UTC) - started).total_seconds(),
    )


def export_build_id(site: Path) -> str | None:
    """The build id of the live export under `site` (its BUILD_MARKER, else its manifest); None if none."""
    link = site / "parquet"
    for name in (BUILD_MARKER, MANIFEST):
        try:
            return json.loads((link / name).read_text())["build_id"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return None


def serving_build_id(serving: Path) -> str | None:
    """The newest build id in the serving file's publish_log; None without a serving file or build."""
    if not serving.exists():
        return None
    con = duckdb.connect(str(serving), read_only=True)
    try:
        row = con.execute(
            "SELECT build_id FROM main.publish_log ORDER BY published_at DESC LIMIT 1"
        ).fetchone()
    except duckdb.Error:
        return None
    finally:
        con.close()
    return row[0] if row else None


def catch_up_export(*, serving: Path, site: Path, **options: Any) -> tuple[str | None, ExportReport] | None:
    """Export `serving` again when the live export holds another build (or none): (the export's old
    build id, the new export), or None when the two already hold one build or nothing is published."""
    published = serving_build_id(serving)
    held = export_build_id(site)
    if published is None or held == published:
        return None
    return held, export_parquet(serving=serving, site=site, **options)
