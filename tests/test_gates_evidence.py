"""The statistical gates on irregular, small and festive zones written here by hand (not by the generator).

Each clean zone must pass with no blocking (ERROR) result on any day; each poisoned day must block
where the day holds enough evidence (docs/quality.md's gates matrix states the minimum evidence). Fast:
the real loader writes a DuckDB file and the suites are validated directly (no Dagster run).
"""

from __future__ import annotations

import csv
import math
import random
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from dagster_project.ingest.feeds import FEEDS
from dagster_project.ingest.loader import ensure_raw_schema, ingest_partition
from dagster_project.quality.suites import load_suites
from dagster_project.quality.validation import check_outcomes, validate_suite

SUITES = {s.name: s for s in load_suites()}
JUDGED = [SUITES[n] for n in ("raw_orders", "raw_channels", "raw_customers")]
FEEDS_WRITTEN = ("channels", "customers", "orders")
LISTED = [("D1", "direct", "showroom"), ("P1", "partner", "agent"), ("T1", "platform", "ecommerce"),
          ("T2", "platform", "live_commerce"), ("D2", "direct", "website")]


def _write(path: Path, feed: str, rows: list[list[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(FEEDS[feed].column_names)
        writer.writerows(rows)


def write_zone(root: Path, start: date, days: int, orders_on, *, sigma: float = 0.8, median: float = 300.0,
               price_on=lambda d: 1.0, customers: int = 300, unlisted_share: float = 0.0, seed: int = 1,
               customer_scale=lambda i: 1.0):
    """Orders, customers and a channel master; `orders_on(day, rng)` gives the day's number of orders,
    `customer_scale(i)` customer i's order size against the median."""
    rng = random.Random(seed)
    since = f"{start.isoformat()}T00:00:00+08:00"
    all_days = [start + timedelta(days=i) for i in range(days)]
    order_no = 0
    for n, day in enumerate(all_days):
        iso = day.isoformat()
        _write(root / "channels" / iso / "channels.csv", "channels",
               [[c, f"渠道{c}", t, s, "华东", "华东", "active", since] for c, t, s in LISTED])
        if n == 0:
            _write(root / "customers" / iso / "customers.csv", "customers",
                   [[f"C{i:04d}", "b2b", "张三", "13812340000", "", "华东", "制造", since, since]
                    for i in range(customers)])
        body = []
        for _ in range(orders_on(day, rng)):
            order_no += 1
            m = rng.randrange(8 * 60, 22 * 60)
            ts = f"{iso}T{m // 60:02d}:{m % 60:02d}:{rng.randrange(60):02d}+08:00"
            buyer = rng.randrange(customers)
            amount = max(0.01, median * customer_scale(buyer) * price_on(day) * math.exp(rng.gauss(0, sigma)))
            channel = "NEW1" if rng.random() < unlisted_share else rng.choice(LISTED)[0]
            body.append([f"O{order_no:07d}", f"C{buyer:04d}", channel, ts,
                         f"{amount:.2f}", "paid", ts, "华东", "false"])
        if body:
            _write(root / "orders" / iso / "orders.csv", "orders", body)
    return all_days


def poisson(lam):
    return lambda day, rng: _poisson(rng, lam)


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _warehouse(root: Path, days: list[date]) -> Path:
    path = root / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("SET TimeZone = 'Asia/Shanghai'")
    ensure_raw_schema(con)
    for feed in FEEDS_WRITTEN:
        for day in days:
            ingest_partition(con, root / "landing", feed, day, datetime(2026, 1, 1, tzinfo=UTC))
    con.close()
    return path


def blocking(path: Path, days: list[date]) -> dict[tuple[str, str], list[str]]:
    """(asset, check) -> the days with a failing ERROR expectation."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        found = {}
        for suite in JUDGED:
            for outcome in check_outcomes(suite, validate_suite(con, suite, days), days):
                bad = sorted({d for o in outcome.failed if o.severity == "ERROR" for d in o.unexpected_by_day})
                if bad:
                    found[(outcome.asset, outcome.check)] = bad
        return found
    finally:
        con.close()


def weekdays(lam):
    return lambda day, rng: _poisson(rng, lam) if day.weekday() < 5 else 0


def shop_week(day, rng):  # an online shop: busy weekdays, a quiet Sunday
    return _poisson(rng, 30 if day.weekday() == 6 else 100)


def festivals(day, rng):  # 618 and Double 11 at 8-12x the orders, the Chinese New Year lull
    if (day.month, day.day) in ((6, 18), (11, 11)):
        return _poisson(rng, 600)
    if day.month == 2 and day.day <= 10:
        return _poisson(rng, 10)
    return _poisson(rng, 60)


ZONES = {
    # name: (start, days, orders_on, options)
    "b2b_three_a_day": (date(2025, 1, 6), 240, weekdays(3), {"sigma": 1.0, "customers": 40}),
    # two kinds of buyers, each at its own size: a day's median swings 30x with who ordered that day
    "b2b_mixed_sizes": (date(2025, 1, 6), 120, weekdays(2),
                        {"sigma": 0.4, "customers": 30, "customer_scale": lambda i: 30.0 if i < 8 else 1.0}),
    "shop_with_sundays": (date(2025, 1, 1), 90, shop_week,
                          {"price_on": lambda d: 142 / 306 if d.weekday() == 6 else 1.0}),
    "platform_festivals": (date(2025, 1, 1), 330, festivals,
                           {"price_on": lambda d: 0.5 if (d.month, d.day) in ((6, 18), (11, 11)) else 1.0}),
    "unlisted_channel_55_a_day": (date(2025, 3, 1), 60, poisson(55), {"unlisted_share": 6 / 55}),
}


@pytest.fixture(scope="module", params=sorted(ZONES))
def zone(request, tmp_path_factory):
    start, n, orders_on, options = ZONES[request.param]
    root = tmp_path_factory.mktemp(request.param)
    days = write_zone(root / "landing", start, n, orders_on, **options)
    return request.param, root, days, _warehouse(root, days)


def test_clean_zone_has_no_blocking_result(zone):
    name, _, days, path = zone
    assert blocking(path, days) == {}, name


def _rewrite_orders(landing: Path, day: date, change) -> None:
    path = landing / "orders" / day.isoformat() / "orders.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        header, *body = list(csv.reader(fh))
    _write(path, "orders", change(header, body))


def _amounts(factor):
    def change(header, body):
        i = header.index("amount")
        for row in body:
            row[i] = f"{max(0.01, float(row[i]) * factor):.2f}"
        return body
    return change


def _third_unknown(header, body):
    i = header.index("channel_id")
    for k, row in enumerate(body):
        if k % 3 == 0:
            row[i] = f"CHX{k:04d}"
    return body


def _twice_under_new_ids(header, body):
    i = header.index("order_id")
    return body + [[f"{v}R" if j == i else v for j, v in enumerate(row)] for row in body]


def _one_customer(header, body):
    i = header.index("customer_id")
    for row in body:
        row[i] = "C0000"
    return body


POISONS = {
    "amounts x100": (_amounts(100), ("raw/orders", "order_value")),
    "amounts /100": (_amounts(0.01), ("raw/orders", "order_value")),
    "a third on unknown channels": (_third_unknown, ("raw/orders", "unknown_channels")),
    "delivered twice under new ids": (_twice_under_new_ids, ("raw/orders", "repeated_orders")),
    "one customer_id": (_one_customer, ("raw/orders", "customer_spread")),
}
# The minimum evidence of each case (docs/quality.md, gates matrix): orders on the poisoned day.
MINIMUM_ORDERS = {"amounts x100": 2, "amounts /100": 2, "a third on unknown channels": 20,
                  "delivered twice under new ids": 2, "one customer_id": 12}


def _poison(root: Path, path: Path, tmp_path: Path, bad: date, change) -> dict[tuple[str, str], list[str]]:
    """The zone's warehouse copied, `bad` re-delivered changed and reloaded; the blocking results of that day."""
    shutil.copytree(root / "landing", tmp_path / "landing")
    _rewrite_orders(tmp_path / "landing", bad, change)
    shutil.copy(path, tmp_path / "warehouse.duckdb")
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("SET TimeZone = 'Asia/Shanghai'")
    ingest_partition(con, tmp_path / "landing", "orders", bad, datetime(2026, 1, 2, tzinfo=UTC))
    con.close()
    return blocking(tmp_path / "warehouse.duckdb", [bad])


@pytest.mark.parametrize("zone", ["b2b_mixed_sizes"], indirect=True)  # days of one order swing 30x with the buyer
@pytest.mark.parametrize("factor", [100, 0.01])
def test_a_unit_change_blocks_a_day_of_one_order_by_a_known_customer(zone, factor, tmp_path):
    name, root, days, path = zone
    single = [d for d in days[40:] if (root / "landing" / "orders" / d.isoformat() / "orders.csv").is_file()
              and len((root / "landing" / "orders" / d.isoformat() / "orders.csv").read_text().splitlines()) == 2]
    assert len(single) >= 4, "the zone should have days of one order"
    for bad in (single[0], single[-1]):  # each buyer ordered before: 30 customers over 40 days of orders
        found = _poison(root, path, tmp_path / bad.isoformat(), bad, _amounts(factor))
        assert bad.isoformat() in found.get(("raw/orders", "order_value"), []), (bad, found)


@pytest.mark.parametrize("case", sorted(POISONS))
def test_poisoned_day_blocks_where_the_day_holds_the_evidence(zone, case, tmp_path):
    name, root, days, path = zone
    change, check = POISONS[case]
    counts = {d: sum(1 for _ in (root / "landing" / "orders" / d.isoformat()).glob("*.csv")) and
              len((root / "landing" / "orders" / d.isoformat() / "orders.csv").read_text().splitlines()) - 1
              for d in days[40:] if (root / "landing" / "orders" / d.isoformat()).is_dir()}
    enough = [d for d, n in counts.items() if n >= MINIMUM_ORDERS[case]]
    if not enough:
        pytest.skip(f"{name} has no day with {MINIMUM_ORDERS[case]} orders after day 40")
    bad = enough[len(enough) // 2]
    found = _poison(root, path, tmp_path, bad, change)
    assert bad.isoformat() in found.get(check, []), (name, case, counts[bad], found)


def test_a_feed_that_goes_silent_is_flagged_not_blocked(tmp_path):
    """Orders for 30 days, then none for 5 (no folder at all): each silent day is the gates matrix's
    empty day, WARN (volume), and nothing blocks."""
    start = date(2025, 4, 1)
    days = write_zone(tmp_path / "landing", start, 30, poisson(20))
    silent = [start + timedelta(days=30 + i) for i in range(5)]
    path = _warehouse(tmp_path, days + silent)
    assert blocking(path, days + silent) == {}
    con = duckdb.connect(str(path), read_only=True)
    try:
        [orders] = [s for s in JUDGED if s.name == "raw_orders"]
        outcomes = {o.check: o for o in check_outcomes(orders, validate_suite(con, orders, silent), silent)}
    finally:
        con.close()
    volume = outcomes["volume"]
    flagged = {d for o in volume.failed if o.severity == "WARN" for d in o.unexpected_by_day}
    assert not volume.blocking and flagged == {d.isoformat() for d in silent}
