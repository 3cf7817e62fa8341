"""Reading landing files into the all-text relation `_rows` the loader validates (docs/feed_contract.md).

CSV and JSON lines are split into physical lines once and parsed by DuckDB SQL; Parquet is read
through Arrow. Nothing here decides whether a row is valid: that is classify.py.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from dagster_project.ingest.feeds import Feed
from dagster_project.sql import ident, literal

SUPPORTED_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".parquet": "parquet"}

# A CSV field: quoted (doubled quotes inside) or unquoted. Lines get a leading comma so that every
# field, the first and empty ones included, is matched as ",<field>" (RE2 skips empty matches).
CSV_FIELD_RE = r',("(?:[^"]|"")*"|[^,]*)'


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
class LandingFile:
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


def create_rows_table(con, feed: Feed) -> None:
    """_rows: every record of the batch as text, with its structural verdict (NULL when fine)."""
    cols = ", ".join(f"{ident(c)} VARCHAR" for c in feed.column_names)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _rows ({ROWS_COLUMNS}, {cols})")


def insert_unreadable(con, feed: Feed, file_id: int, message: str) -> None:
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


def load_text_lines(con, files: list[LandingFile], feed: Feed) -> list[LandingFile]:
    """Create _lines(file_id, line_number, raw, txt) for the CSV and JSONL files of the batch.

    Files that cannot be opened become unreadable records; the others are returned.
    """
    ids, numbers, raws, readable = [], [], [], []
    for f in files:
        if f.data is None:
            strerror = f.read_error.strerror if f.read_error else "not read"
            insert_unreadable(con, feed, f.file_id, f"the file cannot be opened ({strerror})")
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


def csv_rows(con, files: list[LandingFile], feed: Feed) -> None:
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
            insert_unreadable(con, feed, file_id, why)
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


def jsonl_rows(con, files: list[LandingFile], feed: Feed) -> None:
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


def parquet_rows(con, f: LandingFile, feed: Feed) -> None:
    # Read with pyarrow first: a DuckDB error inside the batch's transaction would abort it.
    try:
        if f.data is None:
            raise f.read_error or OSError("not read")
        table = pq.read_table(pa.BufferReader(f.data))
    except (OSError, pa.ArrowException) as exc:
        insert_unreadable(con, feed, f.file_id, f"the Parquet file cannot be read ({str(exc).splitlines()[0][:160]})")
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


