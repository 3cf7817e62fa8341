"""The pandas frames a suite is validated on, pulled from DuckDB or computed in it.

Why pandas frames and not Great Expectations' SQL data source: GE 1.x has no DuckDB engine, and over
SQLAlchemy + duckdb-engine its SQL path returns wrong results on our versions (every expectation
failed with "list index out of range" when we tried). So the scale rule is: never pull a whole big
table. A raw feed is validated one arrival day at a time (a WHERE on the day column; consecutive
days are grouped into one frame of at most ROWS_PER_FRAME rows and failures are reported per day);
a mart is pulled whole only because marts are small; and everything that needs history (row counts
against the trailing 7-day mean, shares and averages against the trailing weeks, freshness) is
aggregated in DuckDB SQL, so GE sees one small row per day.

Batch kinds (`meta.batches` of a suite file):
- `rows`: the table's rows, only the columns the expectations read plus `sample_columns`; with
  `per_day` the run's arrival days only; `where` narrows a mart (e.g. to the months a run can change);
  `split_by` cuts a large mart into frames of whole values of a column (the RFM history by month).
- `schema`: one row, column name -> DuckDB type of the table (information_schema), so types are
  checked as DuckDB declares them rather than as pandas happens to convert them.
- `daily_volume`: one row per arrival day of the run for a feed (VOLUME_SQL below).
- `schema_drift`: one row per landing file of the run's days that lacks a required column its feed
  delivered before (SCHEMA_DRIFT_SQL below).
- `sql`: a query written in the suite, with the run's first and last arrival day as `$first` and
  `$last`; usually one row per day (`per_day` names the day column), or a few rows (duplicate keys,
  a row count).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from dagster_project.quality.suites import BatchSpec, Suite
from dagster_project.sql import ident

ROWS_PER_FRAME = 200_000


@dataclass
class Frame:
    """One pandas frame of a batch; `days` are the arrival days it covers (empty: not per day)."""

    batch: BatchSpec
    df: pd.DataFrame
    days: tuple[date, ...] = ()
    part: str = ""  # a split batch's frame: the values of its split_by column it covers

    @property
    def label(self) -> str:
        if self.part:
            return self.part
        if not self.days:
            return "whole table"
        if len(self.days) == 1:
            return self.days[0].isoformat()
        return f"{self.days[0]}..{self.days[-1]}"


def _table_ref(table: str) -> str:
    return ".".join(ident(part) for part in table.split("."))


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """Column name -> DuckDB type, in table order; empty when the table does not exist."""
    schema, _, name = table.rpartition(".")
    rows = con.execute(
        """SELECT column_name, data_type FROM information_schema.columns
           WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position""",
        [schema or "main", name],
    ).fetchall()
    return dict(rows)


def _schema_frame(con: duckdb.DuckDBPyConnection, batch: BatchSpec) -> Iterator[Frame]:
    types = table_columns(con, batch.table)
    yield Frame(batch, pd.DataFrame([types]) if types else pd.DataFrame(index=[0]))


def _value_groups(
    counts: list[tuple[object, int]], limit: int, consecutive: bool = False
) -> list[list[object]]:
    """Values in order grouped so that one group holds at most `limit` rows (a value is never split);
    with `consecutive` (dates), a gap between two days also starts a new group."""
    groups: list[list[object]] = []
    size = 0
    for value, n in counts:
        fits = bool(groups) and size + n <= limit
        if fits and consecutive:
            fits = (value - groups[-1][-1]).days == 1
        if fits:
            groups[-1].append(value)
            size += n
        else:
            groups.append([value])
            size = n
    return groups


def _rows_frames(
    con: duckdb.DuckDBPyConnection, suite: Suite, batch: BatchSpec, days: list[date]
) -> Iterator[Frame]:
    present = table_columns(con, batch.table)
    wanted = [*suite.columns_for(batch.name), *batch.sample_columns]
    if batch.per_day:
        wanted.append(batch.per_day)
    # A column the table lacks is left out: the expectation on it then fails and says so.
    columns = [c for c in dict.fromkeys(wanted) if c in present]
    select = ", ".join(ident(c) for c in columns) or "NULL AS no_columns"
    table = _table_ref(batch.table)
    if not present:
        yield Frame(batch, pd.DataFrame(), tuple(days) if batch.per_day else ())
        return
    if not batch.per_day:
        where = f" WHERE {batch.where}" if batch.where else ""
        values = {"first": min(days).isoformat(), "last": max(days).isoformat()}
        if not batch.split_by:
            sql = f"SELECT {select} FROM {table}{where}"
            yield Frame(batch, con.execute(sql, _params(sql, values)).df())
            return
        # A large mart in frames of at most ROWS_PER_FRAME rows of whole split_by values (a month of
        # the RFM history is a block of customers), so memory stays flat however long the history;
        # expectations on rows, or on keys that contain split_by, are exact frame by frame.
        split = ident(batch.split_by)
        count_sql = f"SELECT {split}, count(*) FROM {table}{where} GROUP BY ALL ORDER BY 1"
        counts = con.execute(count_sql, _params(count_sql, values)).fetchall()
        for group in _value_groups(counts, ROWS_PER_FRAME):
            in_group = f"{split} BETWEEN $lo AND $hi"
            sql = f"SELECT {select} FROM {table} WHERE " + (f"({batch.where}) AND {in_group}" if where else in_group)
            df = con.execute(sql, _params(sql, {**values, "lo": group[0], "hi": group[-1]})).df()
            part = f"{batch.split_by} {group[0]}" + (f"..{group[-1]}" if len(group) > 1 else "")
            yield Frame(batch, df, part=part)
        return
    day_col = ident(batch.per_day)
    counts = dict(
        con.execute(
            f"SELECT {day_col}, count(*) FROM {table} WHERE {day_col} BETWEEN ? AND ? GROUP BY ALL",
            [min(days), max(days)],
        ).fetchall()
    )
    # Days without rows are validated too (as an empty frame): an empty day is an outcome to report.
    for group in _value_groups([(d, counts.get(d, 0)) for d in days], ROWS_PER_FRAME, consecutive=True):
        df = con.execute(
            f"SELECT {select} FROM {table} WHERE {day_col} BETWEEN ? AND ? ORDER BY {day_col}",
            [group[0], group[-1]],
        ).df()
        yield Frame(batch, df, tuple(group))


# One row per arrival day of the run for one feed, from raw.ingest_log and the raw table:
# - files, rows_read, rows_loaded, rows_quarantined;
# - quarantined_share: rows quarantined / rows read, NULL below the batch's min_quarantined_rows (the
#   odd bad line is the loader's business: it is quarantined with its reason, the day is fine);
# - trailing_7d_mean_rows / trailing_7d_median_rows: rows loaded over the arrival days among the 7
#   before (NULL with fewer than 3 such days), and rows_vs_trailing_7d_mean / _median = rows loaded
#   divided by them (NULL when the trailing figure is below the batch's min_trailing_rows: a feed of
#   two complaints a day says nothing by ratio). The median is for feeds with bulk days (an initial
#   load of the customer master), the mean for steady ones;
# - newest_ts: the newest `newest` timestamp loaded by the end of the day (all days up to it), and
#   newest_lag_hours: hours from it to the end of the arrival day in SALESMP_TZ (the session zone).
VOLUME_SQL = """
WITH days AS (
    SELECT CAST(unnest(generate_series(CAST($first AS DATE), CAST($last AS DATE), INTERVAL 1 DAY)) AS DATE)
        AS day
),
log AS (
    SELECT partition_date AS day, count(source_file) AS files, sum(rows_read) AS rows_read,
           sum(rows_loaded) AS rows_loaded, sum(rows_quarantined) AS rows_quarantined
    FROM raw.ingest_log
    WHERE feed = $feed AND partition_date BETWEEN CAST($first AS DATE) - 7 AND CAST($last AS DATE)
    GROUP BY ALL
),
volume AS (
    SELECT d.day, coalesce(l.files, 0) AS files, coalesce(l.rows_read, 0) AS rows_read,
           coalesce(l.rows_loaded, 0) AS rows_loaded, coalesce(l.rows_quarantined, 0) AS rows_quarantined,
           count(h.day) AS trailing_days, avg(h.rows_loaded) AS trailing_mean,
           median(h.rows_loaded) AS trailing_median
    FROM days d
    LEFT JOIN log l ON l.day = d.day
    LEFT JOIN log h ON h.day BETWEEN d.day - 7 AND d.day - 1
    GROUP BY ALL
){newest_ctes}
SELECT v.day, v.files, v.rows_read, v.rows_loaded, v.rows_quarantined,
       CASE WHEN v.rows_read > 0 AND v.rows_quarantined >= $min_quarantined_rows
           THEN v.rows_quarantined / v.rows_read END AS quarantined_share,
       CASE WHEN v.trailing_days >= 3 THEN v.trailing_mean END AS trailing_7d_mean_rows,
       CASE WHEN v.trailing_days >= 3 THEN v.trailing_median END AS trailing_7d_median_rows,
       CASE WHEN v.trailing_days >= 3 AND v.trailing_mean > 0 AND v.trailing_mean >= $min_trailing_rows
           THEN v.rows_loaded / v.trailing_mean END AS rows_vs_trailing_7d_mean,
       CASE WHEN v.trailing_days >= 3 AND v.trailing_median > 0 AND v.trailing_median >= $min_trailing_rows
           THEN v.rows_loaded / v.trailing_median END AS rows_vs_trailing_7d_median{newest_columns}
FROM volume v{newest_join}
ORDER BY v.day
"""

NEWEST_CTES = """,
newest_per_day AS (
    SELECT _partition_date AS day, max(CAST({col} AS TIMESTAMPTZ)) AS ts FROM raw.{feed}
    WHERE _partition_date BETWEEN CAST($first AS DATE) AND CAST($last AS DATE) GROUP BY ALL
),
newest_before AS (
    SELECT max(CAST({col} AS TIMESTAMPTZ)) AS ts FROM raw.{feed} WHERE _partition_date < CAST($first AS DATE)
),
newest AS (
    SELECT d.day, greatest(
        (SELECT ts FROM newest_before),
        max(n.ts) OVER (ORDER BY d.day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) AS newest_ts
    FROM days d LEFT JOIN newest_per_day n USING (day)
)"""
NEWEST_COLUMNS = """,
       n.newest_ts,
       epoch(CAST(v.day + 1 AS TIMESTAMPTZ) - n.newest_ts) / 3600.0 AS newest_lag_hours"""


# One row per landing file of the run's days whose every line the loader quarantined as missing_column
# (the file has no such column: the loader gives that reason to every line of it), on a feed that loaded
# rows on an earlier arrival day: a required column the feed delivered before is gone (renamed or
# dropped upstream). A feed's first delivery lacking a column is the loader's quarantine, not drift.
# drift_lines (what blocks): the file's lines when it is a real delivery, i.e. it holds at least the
# batch's min_quarantined_rows lines (10), or no other file of the feed loaded a row that day (the
# day's delivery is this file), so a company that sends 3 orders a day in one file is blocked like one
# that sends 30,000; 0 for a small stray file beside a day's delivery that loaded, which the
# quarantine check reports.
SCHEMA_DRIFT_SQL = """
WITH files AS (
    SELECT partition_date AS day, source_file AS file,
           any_value(regexp_extract(reason, 'no required column (.*)$', 1)) AS missing_column,
           count(*) AS lines_without_column
    FROM raw.quarantine
    WHERE feed = $feed AND reason_code = 'missing_column'
      AND partition_date BETWEEN CAST($first AS DATE) AND CAST($last AS DATE)
    GROUP BY ALL
),
days AS (
    SELECT partition_date AS day, sum(rows_loaded) AS day_rows_loaded
    FROM raw.ingest_log
    WHERE feed = $feed AND partition_date BETWEEN CAST($first AS DATE) AND CAST($last AS DATE)
    GROUP BY ALL
)
SELECT f.day, f.file, f.missing_column, f.lines_without_column,
       coalesce(d.day_rows_loaded, 0) AS day_rows_loaded,
       CASE WHEN f.lines_without_column >= $min_quarantined_rows OR coalesce(d.day_rows_loaded, 0) = 0
            THEN f.lines_without_column ELSE 0 END AS drift_lines
FROM files f
LEFT JOIN days d USING (day)
WHERE EXISTS (SELECT 1 FROM raw.{feed} r WHERE r._partition_date < f.day)
ORDER BY f.day, f.file
"""


def volume_sql(feed: str, newest: str | None) -> str:
    if not newest:
        return VOLUME_SQL.format(newest_ctes="", newest_columns="", newest_join="")
    return VOLUME_SQL.format(
        newest_ctes=NEWEST_CTES.format(col=ident(newest), feed=ident(feed)),
        newest_columns=NEWEST_COLUMNS,
        newest_join=" LEFT JOIN newest n USING (day)",
    )


def _params(sql: str, values: dict[str, object]) -> dict[str, object]:
    """Only the named parameters the statement uses (DuckDB rejects unused ones)."""
    used = set(re.findall(r"\$([a-z_]+)", sql))
    return {k: v for k, v in values.items() if k in used}


def _sql_frame(
    con: duckdb.DuckDBPyConnection, batch: BatchSpec, sql: str, days: list[date], **extra
) -> Frame:
    values = {"first": min(days).isoformat(), "last": max(days).isoformat(), **extra}
    df = con.execute(sql, _params(sql, values)).df()
    if batch.per_day and batch.per_day in df.columns:
        df[batch.per_day] = pd.to_datetime(df[batch.per_day]).dt.date
        # The days asked for may have gaps (a day that failed before is validated again).
        df = df[df[batch.per_day].isin(set(days))].reset_index(drop=True)
    return Frame(batch, df, tuple(days))


def frames(
    con: duckdb.DuckDBPyConnection, suite: Suite, batch: BatchSpec, days: list[date]
) -> Iterator[Frame]:
    """Every frame of one batch for the run's arrival days (`days`, sorted, at least one)."""
    if batch.kind == "schema":
        yield from _schema_frame(con, batch)
    elif batch.kind == "rows":
        yield from _rows_frames(con, suite, batch, days)
    elif batch.kind == "daily_volume":
        yield _sql_frame(
            con,
            batch,
            volume_sql(batch.feed, batch.newest),
            days,
            feed=batch.feed,
            min_trailing_rows=batch.min_trailing_rows,
            min_quarantined_rows=batch.min_quarantined_rows,
        )
    elif batch.kind == "schema_drift":
        yield _sql_frame(
            con, batch, SCHEMA_DRIFT_SQL.format(feed=ident(batch.feed)), days, feed=batch.feed,
            min_quarantined_rows=batch.min_quarantined_rows,
        )
    else:
        yield _sql_frame(con, batch, batch.sql, days)
