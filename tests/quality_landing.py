"""A small, hand-rolled landing zone for the quality-gate tests, and the whole-feed breakages.

Deliberately simple and deterministic (its own few rules, not the project's generator): every feed,
every day, steady volumes, so that each breakage below is the only unusual thing in the data.
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

from dagster_project.ingest.feeds import FEEDS

CHANNELS = [
    # channel_id, channel_type, sub_type, region
    ("CH01", "direct", "showroom", "华东"),
    ("CH02", "direct", "website", "华北"),
    ("CH03", "direct", "referral", "华南"),
    ("CH04", "partner", "head_distributor", "华东"),
    ("CH05", "partner", "agent", "西南"),
    ("CH06", "partner", "growth_distributor", "华北"),
    ("CH07", "platform", "ecommerce", "华东"),
    ("CH08", "platform", "live_commerce", "华南"),
    ("CH09", "platform", "vertical_platform", "华中"),
    ("CH10", "direct", "exhibition", "华中"),
]
REGIONS = ["华东", "华北", "华南", "华中", "西南"]


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


HEADERS = {feed: list(spec.column_names) for feed, spec in FEEDS.items()}


def write_landing(
    root: Path,
    *,
    start: date = date(2025, 3, 1),
    days: int = 30,
    orders_per_day: int = 60,
    surveys_per_day: int = 20,
    customers: int = 400,
    seed: int = 7,
) -> list[date]:
    """Every feed for `days` arrival days from `start`; returns the days."""
    rng = random.Random(seed)
    all_days = [start + timedelta(days=i) for i in range(days)]
    known: list[str] = []
    order_no = 0
    for n, day in enumerate(all_days):
        iso = day.isoformat()
        ts = f"{iso}T09:00:00+08:00"
        since = "2025-01-01T00:00:00+08:00"
        rows = {feed: [] for feed in FEEDS}
        rows["channels"] = [
            [cid, f"渠道{cid}", ctype, sub, region, ";".join(REGIONS[:3]), "active", since]
            for cid, ctype, sub, region in CHANNELS
        ]
        new_customers = [f"C{len(known) + i:05d}" for i in range(customers // days)]
        known += new_customers
        for cid in new_customers:
            kind, region = rng.choice(["b2b", "b2c"]), rng.choice(REGIONS)
            name, phone, email = f"张{cid[-3:]}", f"1381234{cid[-4:]}", f"u{cid.lower()}@example.com"
            rows["customers"].append([cid, kind, name, phone, email, region, "制造", ts, ts])
        for _ in range(orders_per_day):
            order_no += 1
            minute = rng.randrange(0, 14 * 60)
            when = f"{iso}T{8 + minute // 60:02d}:{minute % 60:02d}:00+08:00"
            amount = f"{round(rng.lognormvariate(6, 0.6), 2):.2f}"
            channel, buyer, region = rng.choice(CHANNELS)[0], rng.choice(known), rng.choice(REGIONS)
            order_id = f"O{order_no:06d}"
            rows["orders"].append([order_id, buyer, channel, when, amount, "paid", when, region, "false"])
        for i in range(surveys_per_day):
            score, csat = rng.choice([3, 5, 6, 7, 7, 8, 8, 9, 9, 10, 10]), rng.choice([3, 4, 4, 5, 5])
            submitted = f"{iso}T12:{i % 60:02d}:00+08:00"
            rows["surveys"].append(
                [f"R{n:03d}{i:03d}", rng.choice(known), rng.choice(CHANNELS)[0], submitted, score, csat, ""]
            )
        yesterday = (day - timedelta(days=1)).isoformat()
        rows["channel_activity"] = [
            [yesterday, cid, 400 + rng.randrange(100), 95.5, 40, 20, "300.00"] for cid, *_ in CHANNELS
        ]
        rows["leads"] = [
            [f"L{n:03d}{i:02d}", rng.choice(CHANNELS)[0], "created", ts, "", "制造"] for i in range(5)
        ]
        answered = f"{iso}T10:00:00+08:00"
        rows["complaints"] = [
            [f"T{n:03d}{i}", rng.choice(known), "CH01", ts, answered, "", "delivery", "low", answered]
            for i in range(2)
        ]
        if day.day == 1 or n == 0:
            rows["sales_targets"] = [[iso[:7], cid, "100000.00", 10] for cid, *_ in CHANNELS]
        for feed, body in rows.items():
            if body:
                _write_csv(root / feed / iso / f"{feed}.csv", HEADERS[feed], body)
    return all_days


# --------------------------------------------------------------------------------------------------
# Whole-feed breakages of one arrival day. They rewrite every CSV
# file of the day's folder (this module's files or the generator's with file_format="csv").
# --------------------------------------------------------------------------------------------------


def _rewrite_day(root: Path, feed: str, day: date, change) -> None:
    for path in sorted((root / feed / day.isoformat()).glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        if not rows:
            continue
        header, body = rows[0], rows[1:]
        _write_csv(path, header, change(header, body))


def _set_column(column: str, value) -> object:
    def change(header, body):
        if column not in header:
            return body
        i = header.index(column)
        for k, row in enumerate(body):
            if len(row) > i and row[i]:
                row[i] = value(row[i], k)
        return body

    return change


def empty_day(root: Path, day: date, feed: str = "orders") -> None:
    """The feed delivers no file at all that day."""
    for f in (root / feed / day.isoformat()).iterdir():
        f.unlink()


def third_of_orders(root: Path, day: date) -> None:
    _rewrite_day(root, "orders", day, lambda h, b: b[: len(b) // 3])


def amounts_times_100(root: Path, day: date) -> None:
    _rewrite_day(root, "orders", day, _set_column("amount", lambda v, k: f"{float(v) * 100:.2f}"))


def channel_master_loses_half(root: Path, day: date) -> None:
    _rewrite_day(root, "channels", day, lambda h, b: b[: len(b) // 2])


def all_scores_ten(root: Path, day: date) -> None:
    _rewrite_day(root, "surveys", day, _set_column("nps_score", lambda v, k: "10"))


def third_on_unknown_channels(root: Path, day: date) -> None:
    unknown = _set_column("channel_id", lambda v, k: f"CHX{k:04d}" if k % 3 == 0 else v)
    _rewrite_day(root, "orders", day, unknown)


# --------------------------------------------------------------------------------------------------
# One orders line for each quarantine reason of the feed contract (plus the files some reasons need).
# --------------------------------------------------------------------------------------------------

ORDER_HEADER = "order_id,customer_id,channel_id,order_ts,amount,status,updated_at,ship_region,is_referral"


def quarantine_reason_files(root: Path, day: date, channel_id: str, customer_id: str) -> dict[str, int]:
    """Write files with one bad orders line per reason code; returns the expected count per code."""
    folder = root / "orders" / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    iso = day.isoformat()

    def line(order_id: str, **over: str) -> str:
        values = {
            "order_id": order_id,
            "customer_id": customer_id,
            "channel_id": channel_id,
            "order_ts": f"{iso}T10:00:00+08:00",
            "amount": "88.00",
            "status": "paid",
            "updated_at": f"{iso}T10:00:00+08:00",
            "ship_region": "华东",
            "is_referral": "false",
        }
        values.update(over)
        return ",".join(values.values())

    lines = [
        line("QX01", customer_id=""),  # missing_value
        line("QX02", order_ts="2025-13-45 25:61:00"),  # bad_timestamp
        line("QX03", amount="12.345"),  # bad_number
        line("QX04", amount="-3.00"),  # out_of_range
        line("QX05", status="shipped"),  # bad_enum
        line("QX06"),
        line("QX06"),  # duplicate_row (the repeat)
        line("QX07", amount="10.00"),
        line("QX07", amount="11.00"),  # conflicting_key (both)
        line("QX08") + ",extra",  # malformed_line
    ]
    data = (ORDER_HEADER + "\n" + "\n".join(lines) + "\n").encode()
    data += line("QX09", ship_region="\udcff").encode("utf-8", "surrogateescape") + b"\n"  # bad_encoding
    data += line("QX10").encode()[:25]  # truncated_line: last line, cut, no newline
    (folder / "orders_reasons.csv").write_bytes(data)
    header_without_status = ORDER_HEADER.replace(",status", "")
    (folder / "orders_missing_column.csv").write_text(
        header_without_status + "\n" + line("QX11").replace(",paid", "") + "\n", encoding="utf-8"
    )
    (folder / "orders_corrupt.parquet").write_bytes(b"PAR1 this is not parquet")
    return {
        "missing_value": 1,
        "bad_timestamp": 1,
        "bad_number": 1,
        "out_of_range": 1,
        "bad_enum": 1,
        "duplicate_row": 1,
        "conflicting_key": 2,
        "malformed_line": 1,
        "bad_encoding": 1,
        "truncated_line": 1,
        "missing_column": 1,
        "unreadable_file": 1,
    }


def renamed_amount_small_day(root: Path, day: date) -> None:
    """A small company's day: its one file holds 3 orders, and upstream renamed `amount`."""

    def change(header, body):
        header[header.index("amount")] = "order_amount"
        return body[:3]

    _rewrite_day(root, "orders", day, change)


def stray_file_without_amount(root: Path, day: date) -> None:
    """Beside the day's real delivery, a stray 2-line file that lacks the `amount` column."""
    main = sorted((root / "orders" / day.isoformat()).glob("*.csv"))[0]
    with main.open(encoding="utf-8", newline="") as fh:
        header, *body = list(csv.reader(fh))
    i = header.index("amount")
    keep = [j for j in range(len(header)) if j != i]
    _write_csv(main.with_name("orders_stray.csv"), [header[j] for j in keep], [[r[j] for j in keep] for r in body[:2]])
