"""Load one feed's landing folder for one arrival day into DuckDB, with quarantine.

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
import csv
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from dagster_project.ingest.feeds import FEEDS, REASON_CODES, Column, Feed, raw_schema_ddl
from dagster_project.ingest.landing_readiness import read_when_settled
from dagster_project.sql import ident, literal

SUPPORTED_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".parquet": "parquet"}

# A CSV field: quoted (doubled quotes inside) or unquoted. Lines get a leading comma so that every
# field, the first and empty ones included, is matched as ",<field>" (RE2 skips empty matches).
CSV_FIELD_RE = r',("(?:[^"]|"")*"|[^,]*)'
ISO_TS_RE = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?\s?(Z|z|[+-]\d{2}(:?\d{2})?)?$"
ISO_DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
MONTH_RE = r"^\d{4}-\d{2}$"
INT_RE = r"^[+-]?\d{1,18}$"
MONEY_RE = r"^[+-]?\d{1,16}(\.\d{1,2})?$"
NUMBER_RE = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"


@dataclass
class FileResult:
    source_file: str | None
    file_format: str | None
    rows_read: int = 0
    rows_loaded: int = 0
    reasons: Counter = field(default_factory=Counter)
    extra_columns: tuple[str, ...] = ()

    @property
    def rows_quarantined(self) -> int:
        return sum(self.reasons.values())


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


# --------------------------------------------------------------------------------------------------
# Reading a file into the all-text relation _rows(line_number, raw_record, struct_code, struct_reason,
# <contract columns as VARCHAR>).
# --------------------------------------------------------------------------------------------------


def _missing_column(feed: Feed, present: set[str]) -> tuple[str | None, str | None]:
    missing = [c for c in feed.required if c not in present]
    if not missing:
        return None, None
    return "missing_column", f"the file has no required column {', '.join(missing)}"


@dataclass
class _File:
    """One landing file of a batch; file_id orders the batch like (day, file name)."""

    file_id: int
    path: Path
    day: date
    result: FileResult
    last_line: int = 0
    ends_with_newline: bool = True
    data: bytes | None = None  # the bytes read once the file had settled (landing_readiness.py)
    read_error: OSError | None = None


ROWS_COLUMNS = "file_id BIGINT, line_number BIGINT, raw_record VARCHAR, struct_code VARCHAR, struct_reason VARCHAR"


def _create_rows_table(con, feed: Feed) -> None:
    """_rows: every record of the batch as text, with its structural verdict (NULL when fine)."""
    cols = ", ".join(f"{ident(c)} VARCHAR" for c in feed.column_names)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _rows ({ROWS_COLUMNS}, {cols})")


def _insert_unreadable(con, feed: Feed, file_id: int, message: str) -> None:
    """A file that cannot be read at all is one quarantined record."""
    cols = ", ".join(ident(c) for c in feed.column_names)
    nulls = ", ".join("NULL" for _ in feed.column_names)
    con.execute(
        f"INSERT INTO _rows (file_id, line_number, raw_record, struct_code, struct_reason, {cols}) "
        f"VALUES (?, NULL, NULL, 'unreadable_file', ?, {nulls})",
        [file_id, message],
    )


def _split_lines(data: bytes) -> tuple[list[bytes], bool]:
    """Physical lines without their newline; the flag tells whether the file ends with one."""
    ends_with_newline = data.endswith(b"\n")
    lines = data.split(b"\n")
    if ends_with_newline:
        lines.pop()
    return lines, ends_with_newline


def _load_text_lines(con, files: list[_File], feed: Feed) -> list[_File]:
    """Create _lines(file_id, line_number, raw, txt) for the CSV and JSONL files of the batch.

    Files that cannot be opened become unreadable records; the others are returned.
    """
    ids, numbers, raws, readable = [], [], [], []
    for f in files:
        if f.data is None:
            strerror = f.read_error.strerror if f.read_error else "not read"
            _insert_unreadable(con, feed, f.file_id, f"the file cannot be opened ({strerror})")
            continue
        lines, f.ends_with_newline = _split_lines(f.data)
        f.data = None  # the lines hold the bytes now
        f.last_line = len(lines)
        ids.append(np.full(len(lines), f.file_id, dtype=np.int64))
        numbers.append(np.arange(1, len(lines) + 1, dtype=np.int64))
        raws.append(pa.array(lines, type=pa.binary()))
        readable.append(f)
    if not readable:
        return []
    table = pa.table(
        {
            "file_id": np.concatenate(ids),
            "line_number": np.concatenate(numbers),
            "raw": pa.chunked_array(raws, type=pa.binary()),
        }
    )
    meta = pa.table(
        {
            "file_id": [f.file_id for f in readable],
            "last_line": [f.last_line for f in readable],
            "ends_with_newline": [f.ends_with_newline for f in readable],
        }
    )
    con.register("_lines_arrow", table)
    con.register("_meta_arrow", meta)
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _lines AS
        SELECT l.file_id, l.line_number, l.raw, rtrim(try(decode(l.raw)), chr(13)) AS txt,
               -- a trailing cut line: the last line of a file that does not end with a newline
               (l.line_number = m.last_line AND NOT m.ends_with_newline) AS is_cut
        FROM _lines_arrow AS l JOIN _meta_arrow AS m USING (file_id)"""
    )
    con.unregister("_lines_arrow")
    con.unregister("_meta_arrow")
    return readable


RAW_RECORD = "coalesce(txt, CAST(raw AS VARCHAR))"


def _csv_rows(con, files: list[_File], feed: Feed) -> None:
    """Parse the CSV files of the batch into _rows: one statement per distinct header."""
    if not files:
        return
    by_id = {f.file_id: f for f in files}
    headers = dict(
        con.execute(
            "SELECT file_id, txt FROM _lines WHERE line_number = 1 AND list_contains(?, file_id)",
            [list(by_id)],
        ).fetchall()
    )
    groups: dict[tuple[str, ...], list[int]] = {}
    for file_id in by_id:
        text = headers.get(file_id)
        if text is None or text.strip() == "":
            why = "the file is empty" if file_id not in headers else "the header row is empty or not UTF-8"
            _insert_unreadable(con, feed, file_id, why)
            continue
        header = tuple(h.strip() for h in next(csv.reader([text.lstrip("\ufeff")])))
        by_id[file_id].result.extra_columns = tuple(h for h in header if h not in feed.column_names)
        groups.setdefault(header, []).append(file_id)
    for header, file_ids in groups.items():
        positions = {name: i + 1 for i, name in reversed(list(enumerate(header)))}
        mc_code, mc_reason = _missing_column(feed, set(header))
        n_fields = len(header)
        values = []
        for col in feed.column_names:
            if col in positions:
                f = f"fields[{positions[col]}]"
                values.append(
                    f"nullif(trim(CASE WHEN {f} LIKE '\"%' THEN replace({f}[2:-2], '\"\"', '\"') "
                    f"ELSE {f} END), '')"
                )
            else:
                values.append("NULL::VARCHAR")
        mc = literal(mc_code) if mc_code else "NULL"
        structure = f"""
            CASE
              WHEN {mc} IS NOT NULL THEN {mc}
              WHEN txt IS NULL THEN 'bad_encoding'
              WHEN (len(fields) <> {n_fields} OR NOT fields_ok) AND is_cut THEN 'truncated_line'
              WHEN len(fields) <> {n_fields} OR NOT fields_ok THEN 'malformed_line'
            END"""
        reason = f"""
            CASE
              WHEN {mc} IS NOT NULL THEN {literal(mc_reason or '')}
              WHEN txt IS NULL THEN 'line ' || line_number || ' is not valid UTF-8'
              WHEN len(fields) <> {n_fields} AND is_cut
                THEN 'the last line is cut off: ' || len(fields) || ' of {n_fields} fields'
              WHEN len(fields) <> {n_fields}
                THEN 'line has ' || len(fields) || ' fields where the header has {n_fields}'
              WHEN NOT fields_ok THEN 'line has an unbalanced or misplaced double quote'
            END"""
        con.execute(
            f"""INSERT INTO _rows
            WITH parsed AS (
                SELECT file_id, line_number, raw, txt, is_cut, contains(txt, '"') AS has_quote,
                       -- a line without a double quote splits on commas (the same fields as the
                       -- regular expression, at a fraction of its cost); the others go through it
                       CASE WHEN contains(txt, '"') THEN regexp_extract_all(',' || txt, '{CSV_FIELD_RE}', 1)
                            ELSE string_split(txt, ',') END AS fields
                FROM _lines
                WHERE list_contains(?, file_id) AND line_number > 1 AND (txt IS NULL OR txt <> '')
            ), checked AS (
                SELECT *, NOT has_quote OR (array_to_string(fields, ',') = txt
                          AND len(list_filter(fields, lambda f: f LIKE '%"%'
                                AND NOT regexp_full_match(f, '"(?:[^"]|"")*"'))) = 0) AS fields_ok
                FROM parsed
            )
            SELECT file_id, line_number, {RAW_RECORD}, {structure}, {reason}, {", ".join(values)}
            FROM checked""",
            [file_ids],
        )


def _jsonl_rows(con, files: list[_File], feed: Feed) -> None:
    """Parse the JSONL files of the batch into _rows in one statement."""
    if not files:
        return
    by_id = {f.file_id: f for f in files}
    keys: dict[int, set[str]] = {}
    for file_id, key in con.execute(
        """SELECT DISTINCT file_id, unnest(json_keys(obj)) FROM (
               SELECT file_id, CASE WHEN json_type(CASE WHEN json_valid(txt) THEN txt END) = 'OBJECT'
                                    THEN txt END AS obj
               FROM _lines WHERE list_contains(?, file_id)) WHERE obj IS NOT NULL""",
        [list(by_id)],
    ).fetchall():
        keys.setdefault(file_id, set()).add(key)
    verdicts = []
    for file_id, f in by_id.items():
        present = keys.get(file_id, set())
        f.result.extra_columns = tuple(sorted(k for k in present if k not in feed.column_names))
        verdicts.append((file_id, *(_missing_column(feed, present) if present else (None, None))))
    con.register(
        "_json_meta",
        pa.table(
            {
                "file_id": pa.array([v[0] for v in verdicts], type=pa.int64()),
                "mc_code": pa.array([v[1] for v in verdicts], type=pa.string()),
                "mc_reason": pa.array([v[2] for v in verdicts], type=pa.string()),
            }
        ),
    )
    # CASE guards keep the JSON functions away from lines that are not JSON (AND does not short-circuit).
    obj_ok = "coalesce(json_type(CASE WHEN json_valid(txt) THEN txt END) = 'OBJECT', false)"
    values = [
        f"CASE WHEN {obj_ok} THEN nullif(trim(json_extract_string(txt, {literal('$.' + _json_key(col))})), '') END"
        for col in feed.column_names
    ]
    con.execute(
        f"""INSERT INTO _rows
        SELECT l.file_id, line_number, {RAW_RECORD},
               CASE
                 WHEN mc_code IS NOT NULL THEN mc_code
                 WHEN txt IS NULL THEN 'bad_encoding'
                 WHEN NOT {obj_ok} AND is_cut THEN 'truncated_line'
                 WHEN NOT {obj_ok} THEN 'malformed_line'
               END,
               CASE
                 WHEN mc_code IS NOT NULL THEN mc_reason
                 WHEN txt IS NULL THEN 'line ' || line_number || ' is not valid UTF-8'
                 WHEN NOT {obj_ok} AND is_cut THEN 'the last line is cut off mid-record'
                 WHEN NOT {obj_ok} THEN 'line ' || line_number || ' is not a JSON object'
               END,
               {", ".join(values)}
        FROM _lines AS l JOIN _json_meta AS m USING (file_id)
        WHERE txt IS NULL OR txt <> ''"""
    )
    con.unregister("_json_meta")


def _json_key(col: str) -> str:
    return '"' + col + '"'


def _parquet_rows(con, f: _File, feed: Feed) -> None:
    # Read with pyarrow first: a DuckDB error inside the batch's transaction would abort it.
    try:
        if f.data is None:
            raise f.read_error or OSError("not read")
        table = pq.read_table(pa.BufferReader(f.data))
    except (OSError, pa.ArrowException) as exc:
        _insert_unreadable(con, feed, f.file_id, f"the Parquet file cannot be read ({str(exc).splitlines()[0][:160]})")
        return
    present = set(table.column_names)
    f.result.extra_columns = tuple(sorted(c for c in present if c not in feed.column_names))
    mc_code, mc_reason = _missing_column(feed, present)
    table = table.append_column("_row_index", pa.array(np.arange(table.num_rows, dtype=np.int64)))
    con.register("_parquet_arrow", table)
    values = [
        f"nullif(trim(CAST({ident(c)} AS VARCHAR)), '')" if c in present else "NULL::VARCHAR"
        for c in feed.column_names
    ]
    cols_json = ", ".join(f"{literal(c)}, CAST({ident(c)} AS VARCHAR)" for c in sorted(present))
    con.execute(
        f"""INSERT INTO _rows
        SELECT {f.file_id}, _row_index + 1, CAST(json_object({cols_json}) AS VARCHAR),
               {literal(mc_code) if mc_code else 'NULL'}, {literal(mc_reason) if mc_reason else 'NULL'},
               {", ".join(values)}
        FROM _parquet_arrow"""
    )
    con.unregister("_parquet_arrow")


# --------------------------------------------------------------------------------------------------
# Validation: one reason per row, the first in REASON_CODES order.
# --------------------------------------------------------------------------------------------------


def _value_checks(col: Column) -> list[tuple[str, str, str]]:
    """(reason_code, SQL condition on the text value v, SQL message) for one column."""
    v = ident(col.name)
    name = col.name
    shown = f"'column {name}: ''' || {v} || ''''"
    checks: list[tuple[str, str, str]] = []
    if col.required:
        checks.append(("missing_value", f"{v} IS NULL", f"'required column {name} is empty'"))
    temporal = {
        "timestamp": (ISO_TS_RE, f"{v}", "TIMESTAMPTZ", "an ISO 8601 timestamp"),
        "date": (ISO_DATE_RE, f"{v}", "DATE", "a YYYY-MM-DD date"),
        "month": (MONTH_RE, f"{v} || '-01'", "DATE", "a YYYY-MM month"),
    }
    if col.kind in temporal:
        pattern, text, cast, what = temporal[col.kind]
        cond = f"{v} IS NOT NULL AND (NOT regexp_full_match({v}, '{pattern}') OR try_cast({text} AS {cast}) IS NULL)"
        checks.append(("bad_timestamp", cond, f"{shown} || ' is not {what}'"))
    elif col.kind in ("int", "money", "number"):
        pattern = {"int": INT_RE, "money": MONEY_RE, "number": NUMBER_RE}[col.kind]
        what = {
            "int": "is not an integer",
            "money": "is not an amount with at most two decimals",
            "number": "is not a number",
        }[col.kind]
        cast = {"int": "BIGINT", "money": "DECIMAL(18,2)", "number": "DOUBLE"}[col.kind]
        checks.append(
            ("bad_number", f"{v} IS NOT NULL AND NOT regexp_full_match({v}, '{pattern}')", f"{shown} || ' {what}'")
        )
        typed = f"CAST({v} AS {cast})"
        if col.min_value is not None:
            op = "<=" if col.min_exclusive else "<"
            bound = "greater than" if col.min_exclusive else "at least"
            checks.append(
                (
                    "out_of_range",
                    f"{v} IS NOT NULL AND regexp_full_match({v}, '{pattern}') AND {typed} {op} {col.min_value}",
                    f"{shown} || ' must be {bound} {col.min_value}'",
                )
            )
        if col.max_value is not None:
            checks.append(
                (
                    "out_of_range",
                    f"{v} IS NOT NULL AND regexp_full_match({v}, '{pattern}') AND {typed} > {col.max_value}",
                    f"{shown} || ' must be at most {col.max_value}'",
                )
            )
    elif col.kind == "bool":
        checks.append(
            (
                "bad_enum",
                f"{v} IS NOT NULL AND lower({v}) NOT IN ('true', 'false')",
                f"{shown} || ' is not true or false'",
            )
        )
    elif col.kind == "enum":
        allowed = ", ".join(literal(e) for e in col.enum)
        checks.append(
            (
                "bad_enum",
                f"{v} IS NOT NULL AND {v} NOT IN ({allowed})",
                f"{shown} || ' is not one of {', '.join(col.enum)}'",
            )
        )
    return checks


def _classify_sql(feed: Feed) -> str:
    checks = [c for col in feed.columns for c in _value_checks(col)]
    ordered = sorted(checks, key=lambda c: REASON_CODES.index(c[0]))
    code_whens = "\n".join(f"WHEN {cond} THEN {literal(code)}" for code, cond, _ in ordered)
    msg_whens = "\n".join(f"WHEN {cond} THEN {msg}" for _, cond, msg in ordered)
    key_cols = ", ".join(ident(k) for k in feed.key)
    return f"""
    CREATE OR REPLACE TEMP TABLE _classified AS
    WITH valued AS (
        SELECT *,
               CASE WHEN struct_code IS NOT NULL THEN struct_code {code_whens} END AS value_code,
               CASE WHEN struct_code IS NOT NULL THEN struct_reason {msg_whens} END AS value_reason
        FROM _rows
    ), dup AS (
        SELECT *,
               CASE WHEN value_code IS NULL
                    THEN row_number() OVER (PARTITION BY file_id, value_code, raw_record ORDER BY line_number)
               END AS copy_no,
               CASE WHEN value_code IS NULL
                    THEN min(line_number) OVER (PARTITION BY file_id, value_code, raw_record) END AS first_line
        FROM valued
    ), conflict AS (
        SELECT *,
               CASE WHEN value_code IS NULL AND copy_no = 1
                    THEN count(*) FILTER (WHERE value_code IS NULL AND copy_no = 1)
                         OVER (PARTITION BY file_id, {key_cols}) END AS key_versions
        FROM dup
    )
    SELECT *,
           CASE WHEN value_code IS NOT NULL THEN value_code
                WHEN copy_no > 1 THEN 'duplicate_row'
                WHEN key_versions > 1 THEN 'conflicting_key' END AS reason_code,
           CASE WHEN value_code IS NOT NULL THEN value_reason
                WHEN copy_no > 1 THEN 'line repeats line ' || first_line || ' of the same file'
                WHEN key_versions > 1
                  THEN 'key ({", ".join(feed.key)}) = ' || concat_ws(' / ', {key_cols})
                       || ' appears ' || key_versions || ' times with different contents in the file'
           END AS reason
    FROM conflict
    """


def _typed_expr(col: Column) -> str:
    v = ident(col.name)
    return {
        "text": v,
        "enum": v,
        "timestamp": f"CAST({v} AS TIMESTAMPTZ)",
        "date": f"CAST({v} AS DATE)",
        "month": f"CAST({v} || '-01' AS DATE)",
        "int": f"CAST({v} AS BIGINT)",
        "money": f"CAST({v} AS DECIMAL(18,2))",
        "number": f"CAST({v} AS DOUBLE)",
        "bool": f"lower({v}) = 'true'",
    }[col.kind]


def _load_batch(
    con, feed: Feed, landing_root: Path, days: list[date], files: list[_File], ingested_at: datetime,
    not_ready: list[str] = (),
) -> None:
    """Replace the batch's days of one feed (raw rows, quarantine rows, ingest log) in one transaction.

    The rows of `not_ready` files (still being written) are left as an earlier run loaded them, if any.
    """
    _create_rows_table(con, feed)
    by_format: dict[str | None, list[_File]] = {}
    for f in files:
        by_format.setdefault(f.result.file_format, []).append(f)
    for f in by_format.pop(None, []):
        _insert_unreadable(con, feed, f.file_id, f"files ending in '{f.path.suffix}' are not a supported format")
    text_files = _load_text_lines(con, by_format.get("csv", []) + by_format.get("jsonl", []), feed)
    _csv_rows(con, [f for f in text_files if f.result.file_format == "csv"], feed)
    _jsonl_rows(con, [f for f in text_files if f.result.file_format == "jsonl"], feed)
    for f in by_format.get("parquet", []):
        _parquet_rows(con, f, feed)
    con.execute(_classify_sql(feed))
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
    typed = ", ".join(_typed_expr(c) for c in feed.columns)
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
    batch_files: list[_File] = []
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
            f = _File(file_id=len(batch_files), path=path, day=day, result=result)
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
