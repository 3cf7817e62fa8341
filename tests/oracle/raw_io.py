"""Read raw tables and dbt marts from a DuckDB file into pandas without losing precision.

Conventions of the frames returned (the same as the oracle's output, see core_marts):

- DECIMAL   -> object column of decimal.Decimal (cast to VARCHAR in SQL, then Decimal(str)); NULL = None.
  DuckDB's own pandas conversion turns DECIMAL into float64, which is never used here.
- TIMESTAMPTZ -> datetime64[.., UTC] (tz-aware, converted to UTC); NULL = NaT.
- TIMESTAMP (naive) -> datetime64 naive as DuckDB returns it; NULL = NaT.
- DATE      -> object column of datetime.date; NULL = None.
- VARCHAR   -> object column of str; NULL = None.
- integers  -> pandas nullable Int64; NULL = pd.NA.
- BOOLEAN   -> pandas nullable boolean; NULL = pd.NA.
- DOUBLE/FLOAT -> float64; NULL = NaN.
"""

from __future__ import annotations

import datetime as dt
import warnings
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd

from dagster_project.ingest.feeds import FEEDS

INT_TYPES = {
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[tuple[str, str]]:
    rows = con.execute(
        """
        select column_name, data_type
        from information_schema.columns
        where table_schema = ? and table_name = ?
        order by ordinal_position
        """,
        [schema, table],
    ).fetchall()
    return [(name, dtype.upper()) for name, dtype in rows]


def _to_date(value) -> dt.date | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(value).date()


def _read_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> pd.DataFrame:
    columns = _table_columns(con, schema, table)
    if not columns:
        raise KeyError(f"table {schema}.{table} not found")
    select = []
    for name, dtype in columns:
        if dtype.startswith("DECIMAL") or dtype.startswith("NUMERIC"):
            select.append(f"cast({_quote(name)} as varchar) as {_quote(name)}")
        else:
            select.append(_quote(name))
    sql = f"select {', '.join(select)} from {_quote(schema)}.{_quote(table)}"
    with warnings.catch_warnings():
        # DuckDB's own DataFrame construction trips a pandas deprecation warning (not ours).
        warnings.simplefilter("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*inplace keyword.*")
        df = con.execute(sql).df()
    for name, dtype in columns:
        col = df[name]
        if dtype.startswith("DECIMAL") or dtype.startswith("NUMERIC"):
            df[name] = pd.Series(
                [None if pd.isna(v) else Decimal(str(v)) for v in col], index=df.index, dtype=object
            )
        elif dtype.startswith("TIMESTAMP WITH TIME ZONE") or dtype == "TIMESTAMPTZ":
            df[name] = pd.to_datetime(col, utc=True)
        elif dtype == "DATE":
            df[name] = pd.Series([_to_date(v) for v in col], index=df.index, dtype=object)
        elif dtype in ("VARCHAR", "TEXT", "STRING") or dtype.startswith("VARCHAR"):
            df[name] = pd.Series([None if pd.isna(v) else str(v) for v in col], index=df.index, dtype=object)
        elif dtype in INT_TYPES:
            df[name] = col.astype("Int64")
        elif dtype == "BOOLEAN":
            df[name] = col.astype("boolean")
        elif dtype in ("DOUBLE", "FLOAT", "REAL"):
            df[name] = col.astype("float64")
    return df


def load_raw(db_path: str | Path) -> dict[str, pd.DataFrame]:
    """Every raw.<feed> table of the feed contract and raw.ingest_log (raw.quarantine too when present).

    Keys are the feed names ("orders", "customers", ...) plus "ingest_log" (and "quarantine").
    A feed table missing from the database is returned as an empty frame with no rows.
    """
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        present = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'raw'"
            ).fetchall()
        }
        out: dict[str, pd.DataFrame] = {}
        for feed in FEEDS.values():
            if feed.name in present:
                out[feed.name] = _read_table(con, "raw", feed.name)
            else:
                cols = list(feed.column_names) + [
                    "_source_file",
                    "_line_number",
                    "_partition_date",
                    "_ingested_at",
                ]
                out[feed.name] = pd.DataFrame({c: pd.Series([], dtype=object) for c in cols})
        out["ingest_log"] = _read_table(con, "raw", "ingest_log")
        if "quarantine" in present:
            out["quarantine"] = _read_table(con, "raw", "quarantine")
        return out
    finally:
        con.close()


def load_mart(db_path: str | Path, table: str, schema: str = "marts") -> pd.DataFrame:
    """One dbt mart (default schema `marts`) with the same type conventions as load_raw."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        return _read_table(con, schema, table)
    finally:
        con.close()
