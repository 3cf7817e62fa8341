"""Build a tiny raw warehouse for running the dbt project end to end by hand.

    python tests/dbt_fixture/build_fixture_warehouse.py /tmp/salesmp_fixture.duckdb
    SALESMP_WAREHOUSE=/tmp/salesmp_fixture.duckdb dbt build --profiles-dir dbt   # from the repository root

The raw schema comes from the feed contract (dagster_project.ingest.feeds.raw_schema_ddl); the rows
are a handful per feed over five partitions (2025-01-31 .. 2025-03-02, D = 2025-03-02) with the edge
cases the marts must survive: a refund arriving days later, a late-arriving older record, an order
at 23:30 UTC that is the next day in Shanghai, an unknown channel and customer, a lead without its
created row, a channel whose master changes, re-sent channel activity.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from dagster_project.ingest.feeds import FEEDS, raw_schema_ddl

PARTITIONS = [date(2025, 1, 31), date(2025, 2, 1), date(2025, 2, 28), date(2025, 3, 1), date(2025, 3, 2)]
P1, P2, P3, P4, P5 = PARTITIONS


def ts(text: str) -> datetime:
    """An ISO instant in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# (partition, record) per feed; the record holds the contract columns in contract order.
ROWS: dict[str, list[tuple[date, tuple]]] = {
    "customers": [
        (P1, ("c1", "b2b", "Zhang Wei", "13812341234", "zhang.wei@example.com", "east", "retail",
              ts("2024-05-01 08:00:00"), ts("2025-01-30 08:00:00"))),
        (P1, ("c2", "b2c", "Li Na", "13900001111", "li.na@example.com", "north", None,
              ts("2024-06-01 08:00:00"), ts("2025-01-30 08:00:00"))),
        (P3, ("c1", "b2b", "Zhang Wei", "13899998888", "zhang.wei@example.com", "east", "retail",
              ts("2024-05-01 08:00:00"), ts("2025-02-27 08:00:00"))),
        (P4, ("c3", "b2c", None, None, None, "south", None, None, ts("2025-02-28 08:00:00"))),
        (P4, ("c4", "b2c", "Wang Fang", "1380000", "bad-email", "west", None, None, ts("2025-02-28 09:00:00"))),
    ],
    "channels": [
        *[
            (p, ("ch_direct", "Showroom Shanghai", "direct", "showroom", "east", None, "active",
                 ts("2025-01-01 00:00:00")))
            for p in PARTITIONS
        ],
        *[
            (p, ("ch_partner", "East Distributor", "partner", "head_distributor", "east", "east;north",
                 "active", ts("2025-01-01 00:00:00")))
            for p in (P1, P2, P3)
        ],
        *[
            (p, ("ch_partner", "East Distributor", "partner", "head_distributor", "east",
                 "east;north;south", "active", ts("2025-02-28 12:00:00")))
            for p in (P4, P5)
        ],
        *[
            (p, ("ch_platform", "Tmall shop", "platform", "ecommerce", None, None, "active",
                 ts("2025-01-01 00:00:00")))
            for p in PARTITIONS
        ],
    ],
    "channel_activity": [
        (P1, (date(2025, 1, 31), "ch_direct", 100, 60.0, 10, 5, 200.00)),
        (P2, (date(2025, 2, 1), "ch_direct", 50, 30.0, 5, 2, 100.00)),
        (P2, (date(2025, 2, 1), "ch_partner", 40, None, 4, None, 80.00)),
        (P3, (date(2025, 2, 28), "ch_partner", 20, 90.0, 2, 1, 40.00)),
        (P4, (date(2025, 3, 1), "ch_direct", 80, 45.0, 8, 3, 150.00)),
        (P4, (date(2025, 3, 1), "ch_platform", 0, None, 0, 0, 0.00)),
        # re-sent, corrected: the later arrival wins
        (P5, (date(2025, 3, 1), "ch_direct", 90, 40.0, 9, 3, 160.00)),
        (P5, (date(2025, 3, 2), "ch_ghost", 10, 20.0, 1, 1, 10.00)),
    ],
    "leads": [
        (P1, ("L1", "ch_direct", "created", ts("2025-01-31 01:00:00"), None, "retail")),
        (P2, ("L1", "ch_direct", "qualified", ts("2025-02-01 02:00:00"), None, "retail")),
        (P4, ("L1", "ch_direct", "won", ts("2025-03-01 03:00:00"), "c1", "retail")),
        (P2, ("L2", "ch_partner", "created", ts("2025-02-01 05:00:00"), None, None)),
        (P3, ("L2", "ch_partner", "proposal", ts("2025-02-28 05:00:00"), None, None)),
        (P4, ("L2", "ch_partner", "lost", ts("2025-03-01 05:00:00"), None, None)),
        (P3, ("L3", "ch_platform", "qualified", ts("2025-02-27 17:00:00"), None, None)),
        (P4, ("L4", "ch_direct", "created", ts("2025-03-01 06:00:00"), None, None)),
        (P5, ("L4", "ch_direct", "created", ts("2025-03-01 07:00:00"), None, None)),
        (P5, ("L5", "ch_direct", "created", ts("2025-03-01 08:00:00"), None, None)),
        (P5, ("L5", "ch_direct", "won", ts("2025-03-02 08:00:00"), "c3", None)),
    ],
    "orders": [
        (P1, ("o1", "c1", "ch_direct", ts("2025-01-31 02:00:00"), "100.00", "paid",
              ts("2025-01-31 02:00:00"), "east", False)),
        (P2, ("o3", "c2", "ch_partner", ts("2025-02-01 03:00:00"), "50.25", "paid",
              ts("2025-02-01 03:00:00"), "north", True)),
        (P3, ("o4", "c2", "ch_partner", ts("2025-02-27 03:00:00"), "1000.00", "paid",
              ts("2025-02-27 05:00:00"), "south", False)),
        # 23:30 UTC on 2025-02-28 is 2025-03-01 07:30 in Shanghai
        (P4, ("o2", "c1", "ch_direct", ts("2025-02-28 23:30:00"), "200.50", "paid",
              ts("2025-02-28 23:30:00"), "east", False)),
        # the refund of o3 arrives a month later
        (P4, ("o3", "c2", "ch_partner", ts("2025-02-01 03:00:00"), "50.25", "refunded",
              ts("2025-03-01 01:00:00"), "north", True)),
        (P4, ("o5", "c3", "ch_platform", ts("2025-03-01 04:00:00"), "10.01", "paid",
              ts("2025-03-01 04:00:00"), None, None)),
        # a late-arriving OLDER record of o4 must not overwrite the paid one
        (P5, ("o4", "c2", "ch_partner", ts("2025-02-27 03:00:00"), "1000.00", "cancelled",
              ts("2025-02-27 04:00:00"), "south", False)),
        (P5, ("o6", "c9", "ch_ghost", ts("2025-03-01 10:00:00"), "33.33", "paid",
              ts("2025-03-01 10:00:00"), None, None)),
        (P5, ("o7", "c1", "ch_direct", ts("2025-03-01 11:00:00"), "70.00", "cancelled",
              ts("2025-03-01 12:00:00"), None, None)),
    ],
    "surveys": [
        (P2, ("r1", "c1", "ch_direct", ts("2025-02-01 04:00:00"), 10, 5, "great")),
        (P3, ("r2", "c1", "ch_direct", ts("2025-02-27 04:00:00"), 6, 4, "slower")),
        (P3, ("r3", "c2", None, ts("2025-02-27 06:00:00"), 8, 3, None)),
        (P4, ("r4", "c9", "ch_ghost", ts("2025-03-01 06:00:00"), 0, None, "bad")),
        (P5, ("r5", "c2", "ch_partner", ts("2025-03-01 07:00:00"), 9, 5, None)),
    ],
    "complaints": [
        (P3, ("t1", "c1", "ch_direct", ts("2025-02-27 01:00:00"), None, None, "delivery", "high",
              ts("2025-02-27 01:00:00"))),
        (P4, ("t1", "c1", "ch_direct", ts("2025-02-27 01:00:00"), ts("2025-02-27 02:30:00"), None,
              "delivery", "high", ts("2025-02-27 02:30:00"))),
        (P5, ("t2", "c2", None, ts("2025-03-01 09:00:00"), ts("2025-03-01 09:10:00"),
              ts("2025-03-01 12:00:00"), "billing", "low", ts("2025-03-01 12:00:00"))),
    ],
    "sales_targets": [
        (P1, (date(2025, 2, 1), "ch_direct", "5000.00", 5)),
        (P1, (date(2025, 3, 1), "ch_direct", "6000.00", 6)),
        (P3, (date(2025, 3, 1), "ch_partner", "3000.00", 2)),
    ],
}


def build(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    con = duckdb.connect(str(path))
    try:
        for stmt in raw_schema_ddl():
            con.execute(stmt)
        ingested_at = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
        for feed_name, rows in ROWS.items():
            feed = FEEDS[feed_name]
            width = len(feed.columns) + 4
            sql = f"INSERT INTO raw.{feed_name} VALUES ({', '.join(['?'] * width)})"
            line_numbers: dict[date, int] = {}
            for partition, record in rows:
                assert len(record) == len(feed.columns), (feed_name, record)
                line_numbers[partition] = line_numbers.get(partition, 0) + 1
                source_file = f"{feed_name}/{partition.isoformat()}/{feed_name}.csv"
                con.execute(sql, [*record, source_file, line_numbers[partition], partition, ingested_at])
            for partition in PARTITIONS:
                loaded = line_numbers.get(partition, 0)
                con.execute(
                    "INSERT INTO raw.ingest_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        feed_name,
                        partition,
                        f"{feed_name}/{partition.isoformat()}/{feed_name}.csv" if loaded else None,
                        "csv" if loaded else None,
                        loaded,
                        loaded,
                        0,
                        None,
                        ingested_at,
                    ],
                )
        con.execute(
            "INSERT INTO raw.quarantine VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            ["orders", P5, f"orders/{P5.isoformat()}/orders.csv", 99, "bad_number", "amount is not a number",
             "o99,c1,ch_direct,2025-03-02T01:00:00Z,abc,paid,2025-03-02T01:00:00Z,,", ingested_at],
        )
        con.execute("CHECKPOINT")
    finally:
        con.close()


if __name__ == "__main__":
    build(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/salesmp_fixture.duckdb"))
