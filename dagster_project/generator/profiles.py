"""Generator profiles: shapes of company data the gates must judge right (`salesmp generate --profile`).

A profile changes what the simulation draws (who buys, on which days, at what prices, through which
channels) and which feeds are delivered from which day; it also gives default sizes, used where the
caller does not pass `orders`, `customers`, `days` or `start`. The `default` profile is the
generator as it always was: same arguments, same bytes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Profile:
    name: str
    summary: str  # one line of `salesmp generate --help`
    orders: int = 300_000
    customers: int = 20_000
    days: int = 365
    start: dt.date = dt.date(2025, 1, 1)
    b2b_share: float = 0.18  # share of business customers
    refund_rate: float = 0.04
    # weekday factors (Monday first) that replace the consumers' / businesses' weekly rhythm
    b2c_week: tuple[float, ...] | None = None
    b2b_week: tuple[float, ...] | None = None
    # (month, day) -> extra factor on consumers' demand, and the price factor on those days
    festivals: dict[tuple[int, int], float] = field(default_factory=dict)
    festival_price: float = 1.0
    cny_lull: float = 1.0  # extra factor on the Chinese New Year days (-2..7 days around it)
    platform_boost: float = 1.0  # popularity factor of the platform channels (ecommerce, live, vertical)
    early_order_days: int = 5  # days a late-listed channel sells before the master lists it
    late_channel_boost: float = 2.0  # popularity factor of the late-listed channels
    feeds: tuple[str, ...] | None = None  # the feeds delivered (None: all eight)
    feed_start: dict[str, float] = field(default_factory=dict)  # feed -> fraction of the period before its first day

    def shape(self, calendar: dict[str, np.ndarray], b2c: np.ndarray, b2b: np.ndarray):
        """The daily demand of consumers and businesses under this profile."""
        wd, month, dom, cny = calendar["weekday"], calendar["month"], calendar["dom"], calendar["to_cny"]
        if self.b2c_week is not None:
            base = 1.0 + 0.25 * (wd >= 5)
            b2c = b2c / base * np.array(self.b2c_week)[wd]
        if self.b2b_week is not None:
            base = np.select([wd == 5, wd == 6], [0.35, 0.2], 1.0)
            b2b = b2b / base * np.array(self.b2b_week)[wd]
        for (m, d), factor in self.festivals.items():
            b2c = b2c * np.where((month == m) & (dom == d), factor, 1.0)
        if self.cny_lull != 1.0:
            b2c = b2c * np.where((cny >= -2) & (cny <= 7), self.cny_lull, 1.0)
        return b2c, b2b

    def price(self, calendar: dict[str, np.ndarray]) -> np.ndarray:
        """Price factor per day of the period (festival discounts)."""
        month, dom = calendar["month"], calendar["dom"]
        out = np.ones(len(month))
        for m, d in self.festivals:
            out = np.where((month == m) & (dom == d), self.festival_price, out)
        return out

    def first_day(self, feed: str, days: int) -> int:
        """The first arrival day (day number of the period) on which the feed delivers."""
        return int(days * self.feed_start.get(feed, 0.0))

    def delivers(self, feed: str) -> bool:
        return self.feeds is None or feed in self.feeds


WEEKDAYS_ONLY = (1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0)

PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("default", "every feed, a mid-sized seller of consumers and businesses through ~40 channels"),
        Profile(
            "b2b-small",
            "eight months of a B2B seller, about 3 orders a working day, no weekend orders",
            orders=700,
            customers=150,
            days=243,
            start=dt.date(2025, 3, 1),
            b2b_share=1.0,
            b2b_week=WEEKDAYS_ONLY,
        ),
        Profile(
            "retail",
            "an online shop of consumers: busy weekdays, a quiet weekend, twice the refunds",
            orders=30_000,
            customers=4_000,
            b2b_share=0.02,
            refund_rate=0.08,
            b2c_week=(1.0, 1.05, 1.0, 1.1, 0.85, 0.3, 0.5),
        ),
        Profile(
            "platform-festivals",
            "platform-heavy consumers: 618 and Double 11 at 5-20x the orders at 0.6x prices, a deep CNY lull",
            orders=200_000,
            customers=30_000,
            b2b_share=0.05,
            platform_boost=4.0,
            festivals={(6, 16): 1.5, (6, 17): 2.0, (6, 18): 4.0, (11, 10): 2.5, (11, 11): 4.0, (11, 12): 2.0},
            festival_price=0.6,
            cny_lull=0.5,
        ),
        Profile(
            "late-channel",
            "a popular channel that sells 14 days before the channel master lists it",
            orders=30_000,
            customers=3_000,
            early_order_days=14,
            late_channel_boost=4.0,
        ),
        Profile(
            "late-feed",
            "the channel master and the survey feed start 40% of the period (months) after the others",
            orders=30_000,
            customers=3_000,
            feed_start={"channels": 0.4, "surveys": 0.4},
        ),
        Profile(
            "orders-customers",
            "a company that sends only customers and orders",
            orders=30_000,
            customers=3_000,
            feeds=("customers", "orders"),
        ),
        Profile(
            "leads-only",
            "a company that sends only its lead funnel",
            orders=30_000,
            customers=15_000,
            feeds=("leads",),
        ),
    )
}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"The profile must be one of {', '.join(PROFILES)}, not {name!r}.") from None


def profiles_help() -> str:
    """The profiles with their defaults, for `salesmp generate --help`."""
    lines = ["profiles (--profile NAME; its defaults apply where --orders/--customers/--days/--start are not given):"]
    for p in PROFILES.values():
        lines.append(
            f"  {p.name:<19} {p.summary} "
            f"[{p.orders:,} orders, {p.customers:,} customers, {p.days} days from {p.start}]"
        )
    return "\n".join(lines)
