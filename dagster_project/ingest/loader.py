"""Load one feed's landing folders for a range of arrival days into DuckDB, with quarantine.

This module batches the days and writes raw, quarantine and the ingest log in one transaction per
batch; readers.py turns files into text rows, classify.py gives each row its reason.

How a file is read: the bytes are split into physical lines once (builtins, no per-row Python), and
everything after that - UTF-8 checks, CSV field splitting, JSON parsing, type and range checks,
duplicate and conflicting-key detection - runs as DuckDB SQL over an all-text relation. Every line
ends either in ``raw.<feed>`` (typed) or in ``raw.quarantine`` with a reason code, so per file
``rows_read = rows_loaded + rows_quarantined`` holds by construction and is recorded in
``raw.ingest_log``.

Contract reading (docs/feed_contract.md): one record per line (a quoted CSV field may not hold a
line break); blank lines are not records; values are trimmed and an empty value is NULL.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from dagster_project.ingest.classify import classify_sql, typed_expr
from dagster_project.ingest.feeds import FEEDS, Feed, raw_schema_ddl
from dagster_project.ingest.landing_readiness import read_when_settled
from dagster_project.ingest.readers import (
    SUPPORTED_SUFFIXES,
    FileResult,
    LandingFile,
    create_rows_table,
    csv_rows,
    insert_unreadable,
    jsonl_rows,
    load_text_lines,
    parquet_rows,
)
from dagster_project.sql import ident, literal


@dataclass
class PartitionResult:
    feed: str
    partition_date: date
    files: list[FileResult]
    # landing paths still being written when ingest reached them: not read, not logged, kept as before
    not_ready: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    @property
    def reasons(self) -> Counter:
        total: Counter = Counter()
        for f in self.files:
            total.update(f.reasons)
        return total


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    for stmt in raw_schema_ddl():
        con.execute(stmt)


def _load_batch(
    con, feed: Feed, landing_root: Path, days: list[date], files: list[LandingFile], ingested_at: datetime,
    not_ready: list[str] = (),
) -> None:
    """Replace the batch's days of one feed (raw rows, quarantine rows, ingest log) in one transaction.

    The rows of `not_ready` files (still being written) are left as an earlier run loaded them, if any.
    """
    create_rows_table(con, feed)
    by_format: dict[str | None, list[LandingFile]] = {}
    for f in files:
        by_format.setdefault(f.result.file_format, []).append(f)
    for f in by_format.pop(None, []):
        insert_unreadable(con, feed, f.file_id, f"files ending in '{f.path.suffix}' are not a supported format")
    text_files = load_text_lines(con, by_format.get("csv", []) + by_format.get("jsonl", []), feed)
    csv_rows(con, [f for f in text_files if f.result.file_format == "csv"], feed)
    jsonl_rows(con, [f for f in text_files if f.result.file_format == "jsonl"], feed)
    for f in by_format.get("parquet", []):
        parquet_rows(con, f, feed)
    con.execute(classify_sql(feed))
    con.register(
        "_files",
        pa.table(
            {
                "file_id": pa.array([f.file_id for f in files], type=pa.int64()),
                "source_file": pa.array([f.result.source_file for f in files], type=pa.string()),
                "partition_date": pa.array([f.day for f in files], type=pa.date32()),
            }
        ),
    )
    for f in files:
        f.result.rows_read, f.result.rows_loaded = 0, 0
    for file_id, code, n in con.execute(
        "SELECT file_id, coalesce(reason_code, ''), count(*) FROM _classified GROUP BY ALL"
    ).fetchall():
        result = files[file_id].result
        result.rows_read += n
        if code:
            result.reasons[code] = n
        else:
            result.rows_loaded = n
    cols = ", ".join(ident(c) for c in feed.column_names)
    typed = ", ".join(typed_expr(c) for c in feed.columns)
    con.execute("BEGIN TRANSACTION")
    try:
        for table, column in ((f"raw.{feed.name}", "_partition_date"), ("raw.quarantine", "partition_date"),
                              ("raw.ingest_log", "partition_date")):
            feed_filter = "" if table == f"raw.{feed.name}" else f"feed = {literal(feed.name)} AND "
            file_column = "_source_file" if table == f"raw.{feed.name}" else "source_file"
            con.execute(
                f"DELETE FROM {table} WHERE {feed_filter}list_contains(?, {column}) "
                f"AND NOT coalesce(list_contains(?, {file_column}), false)",
                [days, list(not_ready)],
            )
        con.execute(
            f"""INSERT INTO raw.{feed.name} ({cols}, _source_file, _line_number, _partition_date, _ingested_at)
            SELECT {typed}, source_file, line_number, partition_date, ?
            FROM _classified JOIN _files USING (file_id) WHERE reason_code IS NULL
            ORDER BY file_id, line_number""",
            [ingested_at],
        )
        con.execute(
            f"""INSERT INTO raw.quarantine
            SELECT {literal(feed.name)}, partition_date, source_file, line_number, reason_code, reason, raw_record, ?
            FROM _classified JOIN _files USING (file_id) WHERE reason_code IS NOT NULL
            ORDER BY file_id, line_number""",
            [ingested_at],
        )
        log = [
            (feed.name, f.day, f.result.source_file, f.result.file_format, f.result.rows_read, f.result.rows_loaded,
             f.result.rows_quarantined, ",".join(f.result.extra_columns) or None, ingested_at)
            for f in files
        ]
        # An empty or missing feed-day is logged too, with a NULL file.
        days_with_files = {f.day for f in files} | {date.fromisoformat(p.split("/")[1]) for p in not_ready}
        log += [(feed.name, d, None, None, 0, 0, 0, None, ingested_at) for d in days if d not in days_with_files]
        con.executemany("INSERT INTO raw.ingest_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", log)
        con.execute("COMMIT")
    except Exception:
        with contextlib.suppress(duckdb.Error):  # a failed COMMIT (a full disk) has no transaction left
            con.execute("ROLLBACK")
        raise
    finally:
        with contextlib.suppress(duckdb.Error):  # never in place of the error that stopped the batch
            con.unregister("_files")
            for temp in ("_rows", "_lines", "_classified"):
                con.execute(f"DROP TABLE IF EXISTS {temp}")


def partition_folder(landing_root: Path, feed: str, day: date) -> Path:
    return landing_root / feed / day.isoformat()


def list_partition_files(landing_root: Path, feed: str, day: date) -> list[Path]:
    folder = partition_folder(landing_root, feed, day)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


# Days are loaded in batches of about this many bytes of landing files: one SQL pass per batch keeps
# the per-statement cost off every day, and the bound keeps memory flat however long the range is.
BATCH_BYTES = 96 * 1024 * 1024


def ingest_days(
    con: duckdb.DuckDBPyConnection,
    landing_root: Path,
    feed_name: str,
    days: list[date],
    ingested_at: datetime,
    batch_bytes: int = BATCH_BYTES,
    settle_seconds: float = 0.0,
    wait_seconds: float = 0.0,
) -> list[PartitionResult]:
    """Replace each of `days` of one feed (raw rows, quarantine rows, ingest log), in batches of days.

    Each batch is one transaction, so every partition is replaced whole or not at all. A file is read
    once it has settled (`settle_seconds` unchanged, waiting at most `wait_seconds`); one still being
    written is not read (PartitionResult.not_ready) and its earlier rows, if any, stay as they were.
    """
    feed = FEEDS[feed_name]
    results = {day: PartitionResult(feed=feed.name, partition_date=day, files=[]) for day in days}
    batch_days: list[date] = []
    batch_files: list[LandingFile] = []
    batch_not_ready: list[str] = []
    size = 0

    def flush() -> None:
        nonlocal batch_days, batch_files, batch_not_ready, size
        if batch_days:
            _load_batch(con, feed, landing_root, batch_days, batch_files, ingested_at, batch_not_ready)
        batch_days, batch_files, batch_not_ready, size = [], [], [], 0

    for day in days:
        paths = list_partition_files(landing_root, feed_name, day)
        day_size = sum(p.stat().st_size for p in paths)
        if batch_days and size + day_size > batch_bytes:
            flush()
        batch_days.append(day)
        size += day_size
        for path in paths:
            result = FileResult(
                source_file=path.relative_to(landing_root).as_posix(),
                file_format=SUPPORTED_SUFFIXES.get(path.suffix.lower()),
            )
            f = LandingFile(file_id=len(batch_files), path=path, day=day, result=result)
            if result.file_format is not None:
                settled = read_when_settled(path, settle_seconds, wait_seconds)
                if not settled.ready:
                    results[day].not_ready.append(result.source_file)
                    batch_not_ready.append(result.source_file)
                    continue
                f.data, f.read_error = settled.data, settled.error
            batch_files.append(f)
            results[day].files.append(result)
    flush()
    return [results[day] for day in days]


def ingest_partition(
    con: duckdb.DuckDBPyConnection,
    landing_root: Path,
    feed_name: str,
    day: date,
    ingested_at: datetime,
) -> PartitionResult:
    """Replace exactly one feed's partition (raw rows, quarantine rows, ingest log) in one transaction."""
    return ingest_days(con, landing_root, feed_name, [day], ingested_at)[0]
