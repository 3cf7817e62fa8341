"""Build a raw warehouse for running the issue-6 (customer care) marts end to end by hand.

    python tests/dbt_fixture_care/build_care_fixture_warehouse.py /tmp/care.duckdb [--as-of 2025-03-31]
    cd dbt
    SALESMP_WAREHOUSE=/tmp/care.duckdb dbt build --profiles-dir . --select +path:../models/marts/care
    cd ..
    python tests/dbt_fixture_care/compare_with_oracle.py /tmp/care.duckdb

Extends the rows of tests/dbt_fixture (the core-mart fixture) to fifteen months (2024-01 .. 2025-03)
so every issue-6 figure has data: hand-made edge cases (a spend decline of exactly 80 %, a drop to
zero, loyalty tiers reached exactly and a refund that moves tier_since, SLA answers at exactly 2 h
and 24 h, tickets still open at the end of D, partner channels whose authorized regions change,
repeat with a touched updated_at, or carry blanks, a channel without regions, sales targets with
NULL values and one after D) plus a seeded random bulk of customers, orders, leads, surveys,
complaints and channel activity. Records arrive in the partition of their local event date (updates
later); only partitions on or before --as-of (D) are loaded, so one script gives a month-end D and a
mid-month D.
"""

from __future__ import annotations

import argparse
import random
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import duckdb

from dagster_project.ingest.feeds import FEEDS, raw_schema_ddl

SHANGHAI = timezone(timedelta(hours=8))
START = date(2024, 1, 1)
END = date(2025, 3, 31)
REGIONS = ("east", "north", "south", "west")


def ts(text: str) -> datetime:
    """An ISO instant; naive text is UTC."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def local_day(instant: datetime) -> date:
    return instant.astimezone(SHANGHAI).date()


class Rows:
    """Records per feed with the partition (arrival day) each arrives in."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[date, dict]]] = {name: [] for name in FEEDS}

    def add(self, feed: str, partition: date | None = None, **record) -> None:
        unknown = set(record) - set(FEEDS[feed].column_names)
        assert not unknown, (feed, unknown)
        if partition is None:
            event = next(
                record[c]
                for c in ("updated_at", "stage_ts", "submitted_at", "activity_date")
                if c in record and record[c] is not None
            )
            partition = (
                event if isinstance(event, date) and not isinstance(event, datetime) else local_day(event)
            )
        self.rows[feed].append((partition, record))


def hand_made(r: Rows) -> None:
    # ---------------------------------------------------------------- channels (master history)
    def channel(cid, ctype, sub, regions, updated, partitions, name=None):
        for p in partitions:
            r.add(
                "channels",
                p,
                channel_id=cid,
                channel_name=name or cid,
                channel_type=ctype,
                sub_type=sub,
                region="east",
                authorized_regions=regions,
                status="active",
                updated_at=ts(updated),
            )

    channel("ch_direct", "direct", "showroom", None, "2023-12-01 00:00:00", [START, date(2025, 1, 1)])
    channel("ch_ref", "direct", "referral", None, "2023-12-01 00:00:00", [START])
    channel("ch_plat", "platform", "ecommerce", None, "2023-12-01 00:00:00", [START])
    # ch_p1: east;north from 2024-02-01; only east from 2024-06-01 00:00 UTC; a touched record (same
    # contents, new updated_at) on 2024-09-01; east;west from 2024-12-01 12:00 UTC (today's master).
    channel(
        "ch_p1",
        "partner",
        "head_distributor",
        "east; north",
        "2024-02-01 00:00:00",
        [date(2024, 2, 1), date(2024, 2, 2)],
    )
    channel("ch_p1", "partner", "head_distributor", "east", "2024-06-01 00:00:00", [date(2024, 6, 1)])
    channel("ch_p1", "partner", "head_distributor", "east", "2024-09-01 00:00:00", [date(2024, 9, 1)])
    channel("ch_p1", "partner", "head_distributor", "east;west", "2024-12-01 12:00:00", [date(2024, 12, 1)])
    # ch_p2: a partner without authorized regions is not judged
    channel("ch_p2", "partner", "agent", None, "2023-12-01 00:00:00", [START])
    # ch_p3: blanks and empty entries in the list; a direct channel until 2024-05-01
    channel("ch_p3", "direct", "field_visit", "south", "2023-12-01 00:00:00", [START])
    channel(
        "ch_p3",
        "partner",
        "growth_distributor",
        " south ; ;north;south ",
        "2024-05-01 00:00:00",
        [date(2024, 5, 1)],
    )

    # ---------------------------------------------------------------- customers
    for i in range(1, 61):
        cid = f"c{i:03d}"
        r.add(
            "customers",
            START,
            customer_id=cid,
            customer_type="b2b" if i % 3 == 0 else "b2c",
            name=f"Name {i}",
            phone=f"1380000{i:04d}",
            email=f"user{i}@example.com",
            region=REGIONS[i % 4],
            industry=None,
            signup_ts=ts("2023-06-01 00:00:00"),
            updated_at=ts("2023-12-31 00:00:00"),
        )
    # a later master record of c001 (latest wins)
    r.add(
        "customers",
        date(2024, 6, 1),
        customer_id="c001",
        customer_type="b2b",
        name="Name 1",
        phone="13800000001",
        email="user1@example.com",
        region="west",
        industry="retail",
        signup_ts=ts("2023-06-01 00:00:00"),
        updated_at=ts("2024-06-01 00:00:00"),
    )

    # ---------------------------------------------------------------- hand-made orders
    def order(
        oid,
        cid,
        when,
        amount,
        ch="ch_direct",
        status="paid",
        updated=None,
        ship="east",
        referral=False,
        partition=None,
    ):
        instant = ts(when)
        upd = ts(updated) if updated else instant
        r.add(
            "orders",
            partition or local_day(upd),
            order_id=oid,
            customer_id=cid,
            channel_id=ch,
            order_ts=instant,
            amount=Decimal(amount),
            status=status,
            updated_at=upd,
            ship_region=ship,
            is_referral=referral,
        )

    # churn: hA declines 100 -> 80 (exactly 80 %) -> 64 (exactly 80 %) -> 0 (refunded later) over
    # Dec..Mar; hB 100, 50, 0, 0; hC 100, 80.01 (no decline), 10; hE only in March via 23:30 UTC.
    order("hA1", "hA", "2024-12-10 02:00:00", "60.00")
    order("hA2", "hA", "2024-12-11 02:00:00", "40.00")
    order("hA3", "hA", "2025-01-10 02:00:00", "80.00")
    order("hA4", "hA", "2025-02-10 02:00:00", "64.00")
    order("hA5", "hA", "2025-03-10 02:00:00", "70.00")
    order("hA5", "hA", "2025-03-10 02:00:00", "70.00", status="refunded", updated="2025-03-20 00:00:00")
    order("hB1", "hB", "2024-12-10 02:00:00", "100.00")
    order("hB2", "hB", "2025-01-10 02:00:00", "50.00")
    order("hC1", "hC", "2025-01-10 02:00:00", "100.00")
    order("hC2", "hC", "2025-02-10 02:00:00", "80.01")
    order("hC3", "hC", "2025-03-10 02:00:00", "10.00")
    order("hE1", "hE", "2025-02-28 23:30:00", "50.00")  # 2025-03-01 07:30 in Shanghai
    order("hF1", "hF", "2025-03-31 15:59:59", "5.00")  # 23:59:59 local on 2025-03-31

    # loyalty: c001 reaches silver with its second purchase (5501.49), a 20000.00 order refunded a
    # week later; c002 exactly 20000.00 (gold); c003 50000.00 (diamond) at 16:00 UTC = next day.
    order("L1", "c001", "2024-03-05 02:00:00", "3000.99")
    order("L2", "c001", "2024-03-31 17:00:00", "2500.50")
    order("L3", "c001", "2024-04-01 02:00:00", "20000.00")
    order("L3", "c001", "2024-04-01 02:00:00", "20000.00", status="refunded", updated="2024-04-08 00:00:00")
    order("L4", "c002", "2024-02-10 02:00:00", "15000.00")
    order("L5", "c002", "2024-03-10 04:00:00", "5000.00")
    order("L6", "c002", "2024-04-01 04:00:00", "100.10")
    order("L7", "c003", "2024-04-20 16:00:00", "50000.00")
    # a late-arriving OLDER record of L4 must not overwrite the paid one
    order(
        "L4",
        "c002",
        "2024-02-10 02:00:00",
        "15000.00",
        status="cancelled",
        updated="2024-02-09 00:00:00",
        partition=date(2024, 5, 1),
    )

    # conflict orders of ch_p1 and ch_p3
    order("P01", "c010", "2024-01-20 02:00:00", "7.00", ch="ch_p1", ship="west")  # before every record
    order("P02", "c010", "2024-01-21 02:00:00", "5.00", ch="ch_p1", ship="north")
    order("P03", "c011", "2024-06-01 00:00:00", "1.00", ch="ch_p1", ship="north")  # exactly at the change
    order("P04", "c011", "2024-06-15 02:00:00", "123.45", ch="ch_p1", ship="north")
    order("P05", "c011", "2024-06-16 02:00:00", "8.00", ch="ch_p1", ship=" east ")
    order(
        "P06",
        "c012",
        "2024-06-17 02:00:00",
        "99.00",
        ch="ch_p1",
        ship="west",
        status="refunded",
        updated="2024-06-20 00:00:00",
    )
    order("P07", "c012", "2024-06-20 02:00:00", "3.00", ch="ch_p1", ship=None)
    order("P08", "c012", "2024-09-15 02:00:00", "10.00", ch="ch_p1", ship="west")  # touched record
    order("P09", "c013", "2024-12-25 02:00:00", "4.00", ch="ch_p1", ship="west")  # today's master allows
    order("P10", "c013", "2024-04-25 02:00:00", "50.00", ch="ch_p3", ship="north")  # direct then
    order("P11", "c013", "2024-05-25 02:00:00", "50.00", ch="ch_p3", ship="north")
    order("P12", "c014", "2024-05-26 02:00:00", "60.00", ch="ch_p3", ship="west")
    order("P13", "c014", "2024-05-27 02:00:00", "70.00", ch="ch_p2", ship="west")
    order("P14", "c015", "2024-07-27 02:00:00", "33.33", ch="ch_ghost", ship="west")  # unknown channel

    # ---------------------------------------------------------------- hand-made complaints
    def ticket(tid, opened, resp=None, resolved=None, ch="ch_direct", cat="quality", sev="low", cid="c001"):
        stamps = [ts(x) for x in (opened, resp, resolved) if x]
        # one record on opening, one more for each later event (the latest carries everything)
        r.add(
            "complaints",
            customer_id=cid,
            ticket_id=tid,
            channel_id=ch,
            opened_at=stamps[0],
            first_response_at=None,
            resolved_at=None,
            category=cat,
            severity=sev,
            updated_at=stamps[0],
        )
        if len(stamps) > 1:
            r.add(
                "complaints",
                customer_id=cid,
                ticket_id=tid,
                channel_id=ch,
                opened_at=stamps[0],
                first_response_at=ts(resp) if resp else None,
                resolved_at=ts(resolved) if resolved else None,
                category=cat,
                severity=sev,
                updated_at=max(stamps),
            )

    ticket("T1", "2025-03-01 00:00:00", "2025-03-01 02:00:00", "2025-03-02 00:00:00", sev="high")
    ticket("T2", "2025-03-02 00:00:00", "2025-03-02 02:00:01", "2025-03-03 00:01:00", cat="delivery")
    ticket("T3", "2025-03-17 13:00:00", ch=None, cat="service", sev="medium")  # 3 h before end of 03-17
    ticket("T4", "2025-03-16 10:00:00", "2025-03-16 10:30:00", cat="billing", sev="high")
    ticket("T5", "2025-03-17 14:00:00", ch="ch_p1", cat="other")  # exactly 2 h before end of 03-17
    ticket("T6", "2025-02-28 17:00:00", "2025-02-28 18:00:00", "2025-03-01 03:00:00", ch="ch_p1")
    ticket("T7", "2025-03-31 13:59:59", ch="ch_p1")  # open, 2 h + 1 s before the end of 03-31
    ticket("T8", "2025-03-30 15:00:00", "2025-03-30 19:00:00", ch="ch_plat", cat="delivery")  # late answer
    ticket("T9", "2025-03-17 06:00:00", "2025-03-17 07:00:00", "2025-03-18 01:00:00", ch="ch_plat")

    # ---------------------------------------------------------------- sales targets
    for m in range(6, 13):
        r.add(
            "sales_targets",
            date(2024, m, 1) - timedelta(days=1),
            month=date(2024, m, 1),
            channel_id="ch_direct",
            revenue_target=Decimal("3000.00"),
            new_customers_target=3,
        )
    for m in range(1, 5):  # 2025-04 is after D: not a row
        r.add(
            "sales_targets",
            date(2024, 12, 15),
            month=date(2025, m, 1),
            channel_id="ch_direct",
            revenue_target=Decimal("2500.00"),
            new_customers_target=2,
        )
        r.add(
            "sales_targets",
            date(2024, 12, 15),
            month=date(2025, m, 1),
            channel_id="ch_p1",
            revenue_target=None if m == 2 else Decimal("800.00"),
            new_customers_target=None if m == 3 else 1,
        )
    # a target of a month with no purchase through the channel, and one with both targets NULL
    r.add(
        "sales_targets",
        date(2024, 12, 15),
        month=date(2025, 1, 1),
        channel_id="ch_plat",
        revenue_target=None,
        new_customers_target=None,
    )


def bulk(r: Rows, rng: random.Random) -> None:
    channels = [
        "ch_direct",
        "ch_direct",
        "ch_ref",
        "ch_plat",
        "ch_plat",
        "ch_p1",
        "ch_p3",
        "ch_p2",
        "ch_ghost",
    ]
    days = (END - START).days + 1
    customers = [f"c{i:03d}" for i in range(4, 61)] + ["u901", "u902", "u903"]  # u9xx: unknown to the feed

    # orders: a steady buyer base with repeat purchases, some refunds and cancellations arriving later
    for n in range(1, 701):
        cid = rng.choice(customers)
        day = START + timedelta(days=rng.randrange(days))
        when = datetime(day.year, day.month, day.day, rng.randrange(24), rng.randrange(60), tzinfo=UTC)
        amount = Decimal(rng.randrange(100, 400000)) / 100
        ch = rng.choice(channels)
        ship = rng.choice([*REGIONS, None, " north "])
        oid = f"B{n:04d}"
        r.add(
            "orders",
            local_day(when),
            order_id=oid,
            customer_id=cid,
            channel_id=ch,
            order_ts=when,
            amount=amount,
            status="paid",
            updated_at=when,
            ship_region=ship,
            is_referral=rng.random() < 0.2,
        )
        if rng.random() < 0.08:
            later = when + timedelta(days=rng.randrange(1, 20), hours=1)
            r.add(
                "orders",
                local_day(later),
                order_id=oid,
                customer_id=cid,
                channel_id=ch,
                order_ts=when,
                amount=amount,
                status=rng.choice(["refunded", "cancelled"]),
                updated_at=later,
                ship_region=ship,
                is_referral=False,
            )

    # channel activity: most days per channel, some NULL or zero spend, a re-sent corrected row
    for offset in range(0, days, 3):
        day = START + timedelta(days=offset)
        for ch in ("ch_direct", "ch_ref", "ch_plat", "ch_p1", "ch_p3", "ch_ghost"):
            if rng.random() < 0.3:
                continue
            spend = None if rng.random() < 0.05 else Decimal(rng.randrange(0, 50000)) / 100
            if ch == "ch_p3" and day.month in (3, 4):
                spend = Decimal("0.00")
            r.add(
                "channel_activity",
                day,
                activity_date=day,
                channel_id=ch,
                visits=rng.randrange(0, 500),
                avg_visit_seconds=float(rng.randrange(10, 300)),
                inquiries=rng.randrange(0, 40),
                carts=rng.randrange(0, 20),
                spend=spend,
            )
            if rng.random() < 0.03:
                r.add(
                    "channel_activity",
                    day + timedelta(days=1),
                    activity_date=day,
                    channel_id=ch,
                    visits=1,
                    avg_visit_seconds=None,
                    inquiries=0,
                    carts=0,
                    spend=Decimal("1.23"),
                )

    # leads with their stage rows; some without a created row, some lost, channels that move
    stage_flow = ["created", "qualified", "proposal", "won"]
    for n in range(1, 161):
        lid = f"LD{n:03d}"
        ch = rng.choice(["ch_direct", "ch_ref", "ch_ref", "ch_plat", "ch_p1", "ch_p3"])
        day = START + timedelta(days=rng.randrange(days))
        t = datetime(day.year, day.month, day.day, rng.randrange(24), tzinfo=UTC)
        depth = rng.randrange(1, 5)
        for k in range(depth):
            stage = stage_flow[k]
            if stage == "created" and rng.random() < 0.1:
                t += timedelta(days=rng.randrange(0, 5))
                continue
            r.add(
                "leads",
                local_day(t),
                lead_id=lid,
                channel_id=ch if rng.random() < 0.9 else "ch_direct",
                stage=stage,
                stage_ts=t,
                customer_id=rng.choice(customers) if stage == "won" else None,
                industry=None,
            )
            t += timedelta(days=rng.randrange(0, 25), hours=rng.randrange(24))
        if depth < 4 and rng.random() < 0.5:
            r.add(
                "leads",
                local_day(t),
                lead_id=lid,
                channel_id=ch,
                stage="lost",
                stage_ts=t,
                customer_id=None,
                industry=None,
            )

    # surveys
    for n in range(1, 301):
        day = START + timedelta(days=rng.randrange(days))
        when = datetime(day.year, day.month, day.day, rng.randrange(24), tzinfo=UTC)
        r.add(
            "surveys",
            local_day(when),
            response_id=f"S{n:04d}",
            customer_id=rng.choice(customers),
            channel_id=rng.choice(["ch_direct", "ch_p1", "ch_plat", None]),
            submitted_at=when,
            nps_score=rng.randrange(0, 11),
            csat_score=rng.choice([None, 1, 2, 3, 4, 5, 5, 4]),
            comment=None,
        )

    # complaints with varied response / resolution times
    for n in range(1, 121):
        day = START + timedelta(days=rng.randrange(days))
        opened = datetime(day.year, day.month, day.day, rng.randrange(24), rng.randrange(60), tzinfo=UTC)
        resp = (
            opened + timedelta(minutes=rng.choice([30, 90, 120, 121, 300, 2000]))
            if rng.random() < 0.85
            else None
        )
        resolved = (
            (opened + timedelta(hours=rng.choice([5, 23, 24, 25, 72])))
            if resp and rng.random() < 0.8
            else None
        )
        stamps = [x for x in (opened, resp, resolved) if x]
        tid = f"K{n:03d}"
        base = dict(
            ticket_id=tid,
            customer_id=rng.choice(customers),
            channel_id=rng.choice(["ch_direct", "ch_p1", "ch_plat", None]),
            category=rng.choice(["quality", "delivery", "service", "billing", "other", None]),
            severity=rng.choice(["low", "medium", "high"]),
            opened_at=opened,
        )
        r.add(
            "complaints",
            local_day(opened),
            **base,
            first_response_at=None,
            resolved_at=None,
            updated_at=opened,
        )
        if len(stamps) > 1:
            r.add(
                "complaints",
                local_day(max(stamps)),
                **base,
                first_response_at=resp,
                resolved_at=resolved,
                updated_at=max(stamps),
            )


def build(path: Path, as_of: date, seed: int = 6) -> None:
    rows = Rows()
    hand_made(rows)
    bulk(rows, random.Random(seed))
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    con = duckdb.connect(str(path))
    try:
        for stmt in raw_schema_ddl():
            con.execute(stmt)
        ingested_at = datetime(2025, 4, 1, 1, 0, tzinfo=UTC)
        partitions = sorted(
            {p for feed_rows in rows.rows.values() for p, _ in feed_rows if p <= as_of} | {as_of}
        )
        for feed_name, feed_rows in rows.rows.items():
            feed = FEEDS[feed_name]
            sql = f"INSERT INTO raw.{feed_name} VALUES ({', '.join(['?'] * (len(feed.columns) + 4))})"
            line_numbers: dict[date, int] = {}
            batch = []
            for partition, record in feed_rows:
                if partition > as_of:
                    continue
                line_numbers[partition] = line_numbers.get(partition, 1) + 1  # header is line 1
                source_file = f"{feed_name}/{partition.isoformat()}/{feed_name}.csv"
                values = [record.get(c) for c in feed.column_names]
                batch.append([*values, source_file, line_numbers[partition], partition, ingested_at])
            if batch:
                con.executemany(sql, batch)
            for partition in partitions:
                loaded = line_numbers.get(partition, 1) - 1
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
        con.execute("CHECKPOINT")
    finally:
        con.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default="/tmp/salesmp_care_fixture.duckdb")
    parser.add_argument("--as-of", default=END.isoformat(), help="D: the last partition loaded")
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args()
    build(Path(args.path), date.fromisoformat(args.as_of), args.seed)
