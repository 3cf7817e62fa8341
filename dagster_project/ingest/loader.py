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


def _q(value: str) -> str:
    """SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --------------------------------------------------------------------------------------------------
# Reading a file into the all-text relation _rows(line_number, raw_record, struct_code, struct_reason,
# <contract columns as VARCHAR>).
# --------------------------------------------------------------------------------------------------


def _split_lines(data: bytes) -> tuple[pa.Table, bool]:
    """Physical lines (without the newline) with 1-based line numbers; blank lines dropped."""
    ends_with_newline = data.endswith(b"\n")
    lines = data.split(b"\n")
    if ends_with_newline:
        lines.pop()
    numbers = np.arange(1, len(lines) + 1, dtype=np.int64)
    table = pa.table({"line_number": numbers, "raw": pa.array(lines, type=pa.binary())})
    return table, ends_with_newline


def _missing_column_sql(feed: Feed, present: set[str]) -> tuple[str | None, str | None]:
    missing = [c for c in feed.required if c not in present]
    if not missing:
        return None, None
    return "missing_column", f"the file has no required column {', '.join(missing)}"


def _unreadable(con: duckdb.DuckDBPyConnection, feed: Feed, message: str) -> None:
    cols = ", ".join(f"NULL::VARCHAR AS {_ident(c)}" for c in feed.column_names)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _rows AS
        SELECT NULL::BIGINT AS line_number, NULL::VARCHAR AS raw_record,
               'unreadable_file' AS struct_code, {_q(message)} AS struct_reason, {cols}"""
    )


def _read_text_lines(con, path: Path, feed: Feed, fmt: str) -> tuple[str, ...]:
    """Create _rows for a CSV or JSONL file. Returns the extra (non-contract) column names."""
    data = path.read_bytes()
    table, ends_with_newline = _split_lines(data)
    con.register("_lines_arrow", table)
    last_line = int(table.num_rows)
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _lines AS
        SELECT line_number, raw, rtrim(try(decode(raw)), chr(13)) AS txt FROM _lines_arrow"""
    )
    con.unregister("_lines_arrow")
    # A trailing cut line: the last line of a file that does not end with a newline.
    truncated_cond = f"(line_number = {last_line} AND NOT {str(ends_with_newline).upper()})"
    raw_record = "coalesce(txt, CAST(raw AS VARCHAR))"
    if fmt == "csv":
        header_row = con.execute("SELECT txt FROM _lines WHERE line_number = 1").fetchone()
        if header_row is None or header_row[0] is None or header_row[0].strip() == "":
            why = "the file is empty" if header_row is None else "the header row is empty or not UTF-8"
            _unreadable(con, feed, why)
            return ()
        header = [h.strip() for h in next(csv.reader([header_row[0].lstrip("\ufeff")]))]
        positions = {name: i + 1 for i, name in reversed(list(enumerate(header)))}
        extras = tuple(h for h in header if h not in feed.column_names)
        mc_code, mc_reason = _missing_column_sql(feed, set(header))
        n_fields = len(header)
        values = []
        for col in feed.column_names:
            if col in positions:
                f = f"fields[{positions[col]}]"
                values.append(
                    f"nullif(trim(CASE WHEN {f} LIKE '\"%' THEN replace({f}[2:-2], '\"\"', '\"') "
                    f"ELSE {f} END), '') AS {_ident(col)}"
                )
            else:
                values.append(f"NULL::VARCHAR AS {_ident(col)}")
        structure = f"""
            CASE
              WHEN {_q(mc_code) if mc_code else 'NULL'} IS NOT NULL THEN {_q(mc_code or '')}
              WHEN txt IS NULL THEN 'bad_encoding'
              WHEN (len(fields) <> {n_fields} OR NOT fields_ok) AND {truncated_cond} THEN 'truncated_line'
              WHEN len(fields) <> {n_fields} OR NOT fields_ok THEN 'malformed_line'
            END"""
        reason = f"""
            CASE
              WHEN {_q(mc_code) if mc_code else 'NULL'} IS NOT NULL THEN {_q(mc_reason or '')}
              WHEN txt IS NULL THEN 'line ' || line_number || ' is not valid UTF-8'
              WHEN len(fields) <> {n_fields} AND {truncated_cond}
                THEN 'the last line is cut off: ' || len(fields) || ' of {n_fields} fields'
              WHEN len(fields) <> {n_fields}
                THEN 'line has ' || len(fields) || ' fields where the header has {n_fields}'
              WHEN NOT fields_ok THEN 'line has an unbalanced or misplaced double quote'
            END"""
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _rows AS
            WITH parsed AS (
                SELECT line_number, raw, txt,
                       regexp_extract_all(',' || txt, '{CSV_FIELD_RE}', 1) AS fields
                FROM _lines WHERE line_number > 1 AND (txt IS NULL OR txt <> '')
            ), checked AS (
                SELECT *, array_to_string(fields, ',') = txt
                          AND len(list_filter(fields, lambda f: f LIKE '%"%'
                                AND NOT regexp_full_match(f, '"(?:[^"]|"")*"'))) = 0 AS fields_ok
                FROM parsed
            )
            SELECT line_number, {raw_record} AS raw_record,
                   {structure} AS struct_code, {reason} AS struct_reason,
                   {", ".join(values)}
            FROM checked"""
        )
        return extras
    # JSONL
    key_rows = con.execute(
        """SELECT DISTINCT unnest(json_keys(obj)) FROM (
               SELECT CASE WHEN json_type(CASE WHEN json_valid(txt) THEN txt END) = 'OBJECT'
                           THEN txt END AS obj FROM _lines) WHERE obj IS NOT NULL"""
    ).fetchall()
    keys = {k for (k,) in key_rows}
    extras = tuple(sorted(k for k in keys if k not in feed.column_names))
    mc_code, mc_reason = _missing_column_sql(feed, keys) if keys else (None, None)
    # CASE guards keep the JSON functions away from lines that are not JSON (AND does not short-circuit).
    obj_ok = "coalesce(json_type(CASE WHEN json_valid(txt) THEN txt END) = 'OBJECT', false)"
    values = [
        f"CASE WHEN {obj_ok} "
        f"THEN nullif(trim(json_extract_string(txt, {_q('$.' + _json_key(col))})), '') END AS {_ident(col)}"
        for col in feed.column_names
    ]
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _rows AS
        SELECT line_number, {raw_record} AS raw_record,
               CASE
                 WHEN {_q(mc_code) if mc_code else 'NULL'} IS NOT NULL THEN {_q(mc_code or '')}
                 WHEN txt IS NULL THEN 'bad_encoding'
                 WHEN NOT {obj_ok} AND {truncated_cond} THEN 'truncated_line'
                 WHEN NOT {obj_ok} THEN 'malformed_line'
               END AS struct_code,
               CASE
                 WHEN {_q(mc_code) if mc_code else 'NULL'} IS NOT NULL THEN {_q(mc_reason or '')}
                 WHEN txt IS NULL THEN 'line ' || line_number || ' is not valid UTF-8'
                 WHEN NOT {obj_ok} AND {truncated_cond} THEN 'the last line is cut off mid-record'
                 WHEN NOT {obj_ok} THEN 'line ' || line_number || ' is not a JSON object'
               END AS struct_reason,
               {", ".join(values)}
        FROM _lines WHERE txt IS NULL OR txt <> ''"""
    )
    return extras


def _json_key(col: str) -> str:
    return '"' + col + '"'


def _read_parquet(con, path: Path, feed: Feed) -> tuple[str, ...]:
    # Read with pyarrow first: a DuckDB error inside the partition's transaction would abort it.
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        _unreadable(con, feed, f"the Parquet file cannot be read ({str(exc).splitlines()[0][:160]})")
        return ()
    present = set(table.column_names)
    extras = tuple(sorted(c for c in present if c not in feed.column_names))
    mc_code, mc_reason = _missing_column_sql(feed, present)
    table = table.append_column("_row_index", pa.array(np.arange(table.num_rows, dtype=np.int64)))
    con.register("_parquet_arrow", table)
    values = [
        f"nullif(trim(CAST({_ident(c)} AS VARCHAR)), '') AS {_ident(c)}"
        if c in present
        else f"NULL::VARCHAR AS {_ident(c)}"
        for c in feed.column_names
    ]
    cols_json = ", ".join(f"{_q(c)}, CAST({_ident(c)} AS VARCHAR)" for c in sorted(present))
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _rows AS
        SELECT _row_index + 1 AS line_number, CAST(json_object({cols_json}) AS VARCHAR) AS raw_record,
               {_q(mc_code) if mc_code else 'NULL::VARCHAR'} AS struct_code,
               {_q(mc_reason) if mc_reason else 'NULL::VARCHAR'} AS struct_reason,
               {", ".join(values)}
        FROM _parquet_arrow"""
    )
    con.unregister("_parquet_arrow")
    return extras


# --------------------------------------------------------------------------------------------------
# Validation: one reason per row, the first in REASON_CODES order.
# --------------------------------------------------------------------------------------------------


def _value_checks(col: Column) -> list[tuple[str, str, str]]:
    """(reason_code, SQL condition on the text value v, SQL message) for one column."""
    v = _ident(col.name)
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
        allowed = ", ".join(_q(e) for e in col.enum)
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
    code_whens = "\n".join(f"WHEN {cond} THEN {_q(code)}" for code, cond, _ in ordered)
    msg_whens = "\n".join(f"WHEN {cond} THEN {msg}" for _, cond, msg in ordered)
    key_cols = ", ".join(_ident(k) for k in feed.key)
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
                    THEN row_number() OVER (PARTITION BY value_code, raw_record ORDER BY line_number) END AS copy_no,
               CASE WHEN value_code IS NULL
                    THEN min(line_number) OVER (PARTITION BY value_code, raw_record) END AS first_line
        FROM valued
    ), conflict AS (
        SELECT *,
               CASE WHEN value_code IS NULL AND copy_no = 1
                    THEN count(*) FILTER (WHERE value_code IS NULL AND copy_no = 1)
                         OVER (PARTITION BY {key_cols}) END AS key_versions
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
    v = _ident(col.name)
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


def _load_file(
    con, feed: Feed, path: Path, rel: str, day: date, ingested_at: datetime
) -> FileResult:
    fmt = SUPPORTED_SUFFIXES.get(path.suffix.lower())
    result = FileResult(source_file=rel, file_format=fmt)
    if fmt is None:
        _unreadable(con, feed, f"files ending in '{path.suffix}' are not a supported format")
        extras: tuple[str, ...] = ()
    elif fmt == "parquet":
        extras = _read_parquet(con, path, feed)
    else:
        try:
            extras = _read_text_lines(con, path, feed, fmt)
        except OSError as exc:
            _unreadable(con, feed, f"the file cannot be opened ({exc.strerror})")
            extras = ()
    result.extra_columns = extras
    con.execute(_classify_sql(feed))
    cols = ", ".join(_ident(c) for c in feed.column_names)
    typed = ", ".join(_typed_expr(c) for c in feed.columns)
    params = [rel, day, ingested_at]
    con.execute(
        f"""INSERT INTO raw.{feed.name} ({cols}, _source_file, _line_number, _partition_date, _ingested_at)
        SELECT {typed}, ?, line_number, ?, ? FROM _classified WHERE reason_code IS NULL
        ORDER BY line_number""",
        params,
    )
    con.execute(
        f"""INSERT INTO raw.quarantine
        SELECT {_q(feed.name)}, ?, ?, line_number, reason_code, reason, raw_record, ?
        FROM _classified WHERE reason_code IS NOT NULL ORDER BY line_number""",
        [day, rel, ingested_at],
    )
    counts = con.execute(
        "SELECT coalesce(reason_code, ''), count(*) FROM _classified GROUP BY ALL"
    ).fetchall()
    for code, n in counts:
        result.rows_read += n
        if code:
            result.reasons[code] = n
        else:
            result.rows_loaded = n
    return result


def partition_folder(landing_root: Path, feed: str, day: date) -> Path:
    return landing_root / feed / day.isoformat()


def list_partition_files(landing_root: Path, feed: str, day: date) -> list[Path]:
    folder = partition_folder(landing_root, feed, day)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def ingest_partition(
    con: duckdb.DuckDBPyConnection,
    landing_root: Path,
    feed_name: str,
    day: date,
    ingested_at: datetime,
) -> PartitionResult:
    """Replace exactly one feed's partition (raw rows, quarantine rows, ingest log) in one transaction."""
    feed = FEEDS[feed_name]
    files = list_partition_files(landing_root, feed_name, day)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"DELETE FROM raw.{feed.name} WHERE _partition_date = ?", [day])
        con.execute("DELETE FROM raw.quarantine WHERE feed = ? AND partition_date = ?", [feed.name, day])
        con.execute("DELETE FROM raw.ingest_log WHERE feed = ? AND partition_date = ?", [feed.name, day])
        results = []
        for path in files:
            rel = path.relative_to(landing_root).as_posix()
            results.append(_load_file(con, feed, path, rel, day, ingested_at))
        log_rows = results or [FileResult(source_file=None, file_format=None)]
        for r in log_rows:
            con.execute(
                "INSERT INTO raw.ingest_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    feed.name,
                    day,
                    r.source_file,
                    r.file_format,
                    r.rows_read,
                    r.rows_loaded,
                    r.rows_quarantined,
                    ",".join(r.extra_columns) or None,
                    ingested_at,
                ],
            )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return PartitionResult(feed=feed.name, partition_date=day, files=results)
