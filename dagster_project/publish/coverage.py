"""What the feeds delivered and what is therefore empty: `feed_coverage` and `mart_status` in serving.

A company may deliver any subset of the eight feeds. A mart whose input feeds never delivered a row
is built empty and published; these two tables, rewritten by every publish, tell a BI reader why a
mart is empty instead of leaving them to guess:

- `feed_coverage`: one row per feed of the contract (feed, first_day, last_day, days_delivered,
  rows_loaded, rows_quarantined), from `raw.ingest_log`; a feed never delivered has 0 days.
- `mart_status`: one row per published table (mart, rows, status, feeds_lacking). `status` is
  `built` (rows), `empty_no_input` (no rows, and a feed it is made of delivered none) or `empty`
  (no rows although every feed it is made of delivered some). `feeds_lacking` lists the feeds it is
  made of that delivered no row: those of the fct_ models in its lineage (the dbt manifest; the
  dimensions that only enrich it left out), or of all its sources where no fact lies between.
"""

from __future__ import annotations

import json
from functools import cache

import duckdb

from dagster_project.config import DBT_TARGET_DIR
from dagster_project.ingest.feeds import FEEDS
from dagster_project.sql import table_exists

FEED_COVERAGE_SQL = """
CREATE OR REPLACE TABLE main.feed_coverage AS
WITH feeds AS (SELECT unnest($feeds::VARCHAR[]) AS feed, generate_subscripts($feeds::VARCHAR[], 1) AS position),
log AS (
    SELECT feed, partition_date, source_file, rows_loaded, rows_quarantined FROM wh.raw.ingest_log
)
SELECT f.feed,
       min(l.partition_date) FILTER (WHERE l.source_file IS NOT NULL) AS first_day,
       max(l.partition_date) FILTER (WHERE l.source_file IS NOT NULL) AS last_day,
       count(DISTINCT l.partition_date) FILTER (WHERE l.source_file IS NOT NULL) AS days_delivered,
       coalesce(sum(l.rows_loaded), 0)::BIGINT AS rows_loaded,
       coalesce(sum(l.rows_quarantined), 0)::BIGINT AS rows_quarantined
FROM feeds f LEFT JOIN log l USING (feed)
GROUP BY f.feed, f.position
ORDER BY f.position
"""

MART_STATUS_DDL = """
CREATE OR REPLACE TABLE main.mart_status (
    mart VARCHAR, "rows" BIGINT, status VARCHAR, feeds_lacking VARCHAR
)
"""


@cache
def lineage_feeds() -> dict[str, tuple[str, ...]]:
    """model name -> the raw feeds it is made of: those of the fct_ models it is built from (the dbt
    manifest's sources, transitively), or all its sources where no fact lies between (the dims)."""
    try:
        manifest = json.loads((DBT_TARGET_DIR / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    nodes = manifest.get("nodes", {})
    memo: dict[str, set[str]] = {}

    def feeds_of(uid: str) -> set[str]:
        if uid in memo:
            return memo[uid]
        memo[uid] = set()
        found: set[str] = set()
        for dep in nodes.get(uid, {}).get("depends_on", {}).get("nodes", []):
            if dep.startswith("source."):
                name = dep.rsplit(".", 1)[-1]
                if name in FEEDS:
                    found.add(name)
            elif dep in nodes:
                found |= feeds_of(dep)
        memo[uid] = found
        return found

    def facts_of(uid: str, seen: set[str]) -> set[str]:
        """The fct_ models a model is made of (itself if it is one), through the models between."""
        if nodes.get(uid, {}).get("name", "").startswith("fct_"):
            return {uid}
        found: set[str] = set()
        for dep in nodes.get(uid, {}).get("depends_on", {}).get("nodes", []):
            if dep in nodes and dep not in seen and not nodes[dep].get("name", "").startswith("dim_"):
                seen.add(dep)
                found |= facts_of(dep, seen)
        return found

    out = {}
    for uid, node in nodes.items():
        if node.get("resource_type") != "model":
            continue
        # a mart is made of the feeds of its facts (mart_nps: the survey answers); the dimensions that
        # only enrich it (the customer's tier, the channel's type) cannot empty it
        facts = set() if node["name"].startswith("dim_") else facts_of(uid, set())
        feeds = set().union(*(feeds_of(f) for f in facts)) if facts else feeds_of(uid)
        out[node["name"]] = tuple(f for f in FEEDS if f in feeds)
    return out


def write_coverage(con: duckdb.DuckDBPyConnection, row_counts: dict[str, int]) -> dict[str, str]:
    """Write both tables into the new serving file (the warehouse attached as `wh`); mart -> status."""
    has_log = table_exists(con, "raw", "ingest_log", catalog="wh")
    sql = FEED_COVERAGE_SQL if has_log else FEED_COVERAGE_SQL.replace(  # a warehouse that never loaded a feed
        "FROM wh.raw.ingest_log",
        "FROM (SELECT NULL::VARCHAR AS feed, NULL::DATE AS partition_date, NULL::VARCHAR AS source_file, "
        "0::BIGINT AS rows_loaded, 0::BIGINT AS rows_quarantined) WHERE false",
    )
    con.execute(sql, {"feeds": list(FEEDS)})
    delivered = {feed for feed, rows in con.execute("SELECT feed, rows_loaded FROM main.feed_coverage").fetchall()
                 if rows > 0}
    con.execute(MART_STATUS_DDL)
    lineage = lineage_feeds()
    statuses = {}
    for mart, rows in sorted(row_counts.items()):
        lacking = [f for f in lineage.get(mart, ()) if f not in delivered]
        status = "built" if rows else ("empty_no_input" if lacking else "empty")
        statuses[mart] = status
        con.execute("INSERT INTO main.mart_status VALUES (?, ?, ?, ?)", [mart, rows, status, ", ".join(lacking)])
    return statuses


FEED_LABELS = {
    "customers": "customer",
    "channels": "channel",
    "channel_activity": "channel activity",
    "leads": "lead",
    "orders": "order",
    "surveys": "survey",
    "complaints": "complaint",
    "sales_targets": "sales target",
}


def feeds_sentence(feeds: list[str]) -> str:
    """["customers", "surveys"] -> "no customer or survey feed delivered"."""
    names = [FEED_LABELS.get(f, f.replace("_", " ")) for f in feeds]
    listed = ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else "".join(names)
    return f"no {listed} feed delivered"


def undelivered_feeds(con: duckdb.DuckDBPyConnection) -> set[str] | None:
    """The feeds of a serving file's `feed_coverage` that never loaded a row (None: no such table)."""
    try:
        return {feed for feed, rows in con.execute("SELECT feed, rows_loaded FROM feed_coverage").fetchall()
                if not rows}
    except duckdb.Error:
        return None


def missing_feed_note(con: duckdb.DuckDBPyConnection, mart: str) -> str | None:
    """"no survey feed delivered" for an empty mart of a serving file, None when it has rows or no status."""
    try:
        row = con.execute("SELECT status, feeds_lacking FROM mart_status WHERE mart = ?", [mart]).fetchone()
    except duckdb.Error:
        return None
    if not row or row[0] != "empty_no_input":
        return None
    return feeds_sentence([f for f in row[1].split(", ") if f])
