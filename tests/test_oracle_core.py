"""Tests of the independent oracle (tests/oracle) on tiny hand-made raw frames.

Every expected figure below is worked out by hand in the comments from the definitions of the specification
and docs/mart_rules.md; the oracle is never used to produce its own expectation.
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from dagster_project.ingest.feeds import FEEDS, raw_schema_ddl

# `tests.oracle` is imported from the repository root, also under a bare `pytest` run.
if str(Path(__file__).resolve().parents[1]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.oracle.compare import assert_frames_match  # noqa: E402
from tests.oracle.core_marts import (  # noqa: E402
    MART_KEYS,
    MART_MONEY,
    compute_core_marts,
    cume_dist_scores,
    percentile_cont,
)
from tests.oracle.raw_io import load_mart, load_raw  # noqa: E402

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
NA = None  # a NULL in the expected tables below


def d(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


def m(s: str) -> Decimal:
    return Decimal(s)


# ----------------------------------------------------------------------------------------------
# Hand-made raw frames
# ----------------------------------------------------------------------------------------------


def _ts(v: str) -> pd.Timestamp:
    t = pd.Timestamp(v)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def make_raw(D: str, **feeds: list[dict]) -> dict[str, pd.DataFrame]:
    """Raw frames like raw_io.load_raw returns them.

    Each row is a dict of contract columns plus optional `_partition_date` (default: the UTC date of
    the row's main timestamp, or D); `_source_file` is `<feed>/<partition>.csv` and `_line_number`
    the row's position among the rows of the feed, so a later row of a partition wins ties.
    """
    main_ts = {
        "orders": "order_ts",
        "leads": "stage_ts",
        "surveys": "submitted_at",
        "customers": "updated_at",
        "channels": "updated_at",
        "complaints": "updated_at",
    }
    out: dict[str, pd.DataFrame] = {}
    for name, feed in FEEDS.items():
        rows = []
        for i, r in enumerate(feeds.get(name, []), start=1):
            row = {c.name: None for c in feed.columns}
            row.update({k: v for k, v in r.items() if not k.startswith("_")})
            if feed.has_updated_at and row.get("updated_at") is None:
                row["updated_at"] = row.get(main_ts.get(name, "")) or f"{D}T00:00:00Z"
            for c in feed.columns:
                if row[c.name] is None:
                    continue
                if c.kind == "timestamp":
                    row[c.name] = _ts(row[c.name])
                elif c.kind in ("date", "month"):
                    row[c.name] = d(row[c.name]) if isinstance(row[c.name], str) else row[c.name]
                elif c.kind == "money":
                    row[c.name] = Decimal(str(row[c.name]))
            part = r.get("_partition_date")
            if part is None:
                ts_col = main_ts.get(name)
                if ts_col and row.get(ts_col) is not None:
                    part = row[ts_col].date().isoformat()
                elif name == "channel_activity":
                    part = row["activity_date"].isoformat()
                else:
                    part = D
            row["_partition_date"] = d(part)
            row["_source_file"] = f"{name}/{part}.csv"
            row["_line_number"] = i
            row["_ingested_at"] = _ts(f"{part}T20:00:00Z")
            rows.append(row)
        cols = list(feed.column_names) + ["_source_file", "_line_number", "_partition_date", "_ingested_at"]
        out[name] = pd.DataFrame(rows, columns=cols)
    out["ingest_log"] = pd.DataFrame(
        [
            {
                "feed": "orders",
                "partition_date": d(D),
                "source_file": None,
                "file_format": None,
                "rows_read": 0,
                "rows_loaded": 0,
                "rows_quarantined": 0,
                "extra_columns": None,
                "_ingested_at": _ts(f"{D}T20:00:00Z"),
            }
        ]
    )
    return out


def order(oid, cust, ch, ts, amount, status="paid", part=None, updated=None) -> dict:
    r = {
        "order_id": oid,
        "customer_id": cust,
        "channel_id": ch,
        "order_ts": ts,
        "amount": amount,
        "status": status,
    }
    if updated:
        r["updated_at"] = updated
    if part:
        r["_partition_date"] = part
    return r


def noon(day: str) -> str:
    """A timestamp whose Shanghai date is `day` (12:00 local)."""
    return f"{day}T04:00:00Z"


def frame(columns: list[str], rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame([dict(zip(columns, r, strict=True)) for r in rows], columns=columns).astype(object)


def rows_of(df: pd.DataFrame, key: str, columns: list[str]) -> dict:
    """{key: (values...)} with NULLs as None, for compact assertions."""

    def norm(v):
        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
            return None
        return v.item() if isinstance(v, np.generic) else v

    return {r[key]: tuple(norm(r[c]) for c in columns) for _, r in df.iterrows()}


# ----------------------------------------------------------------------------------------------
# mart_customer_rfm
# ----------------------------------------------------------------------------------------------


def test_rfm_scores_with_ties_and_btyd_columns():
    # D = 2025-06-30. Day-of-year of Jun 30 = 181.
    raw = make_raw(
        "2025-06-30",
        orders=[
            order("o1", "A", "w", noon("2025-06-30"), "100.00"),
            order("o2", "B", "w", noon("2025-06-20"), "50.00"),
            order("o3", "B", "w", noon("2025-06-25"), "50.00"),
            order("o4", "C", "w", noon("2025-05-01"), "10.00"),
            order("o5", "C", "w", noon("2025-06-25"), "20.00"),
            order("o6", "Dd", "w", noon("2025-01-10"), "100.00"),
            order("o7", "Dd", "w", "2025-01-10T05:00:00Z", "0.05"),
            order("o8", "Dd", "w", noon("2025-03-01"), "100.05"),
            order("o9", "E", "w", noon("2024-12-31"), "1000.00"),
        ],
    )
    rfm = compute_core_marts(raw, SEEDS)["mart_customer_rfm"]
    # recency: A 0, B 5, C 5, Dd 181-60=121, E 181.
    # r (recency desc; cume_dist = share with recency >= own): A 5/5->5, B,C 4/5->4, Dd 2/5->2, E 1/5->1
    # f: freq A1 B2 C2 Dd3 E1 -> A,E 2/5->2; B,C 4/5->4; Dd 5/5->5
    # m: C 30 ->1/5->1; A,B 100 -> 3/5->3; Dd 200.10 -> 4/5->4; E 1000 -> 5
    # fm = ceil((f+m)/2): A ceil(2.5)=3, B ceil(3.5)=4, C 3, Dd ceil(4.5)=5, E ceil(3.5)=4
    # BTYD: Dd days Jan 10 (100.05) and Mar 1 (100.05): repeat_frequency 1, recency_btyd 50,
    # t_days 171, repeat_monetary_avg 100.05; C: May 1 (doy 121) -> Jun 25 (doy 176) = 55, t_days 60.
    # fmt: off
    cols = ["recency_days", "frequency", "monetary", "avg_order_value", "first_purchase_date",
            "last_purchase_date", "repeat_frequency", "recency_btyd", "t_days", "repeat_monetary_avg",
            "r_score", "f_score", "m_score", "fm_score", "rfm_segment", "customer_tier"]
    expected = frame(
        ["customer_id"] + cols,
        [
            ("A", 0, 1, m("100.00"), m("100.00"), d("2025-06-30"), d("2025-06-30"), 0, 0, 0, m("0.00"),
             5, 2, 3, 3, "Potential Loyalist", "potential"),
            ("B", 5, 2, m("100.00"), m("50.00"), d("2025-06-20"), d("2025-06-25"), 1, 5, 10, m("50.00"),
             4, 4, 3, 4, "Champions", "growth"),
            ("C", 5, 2, m("30.00"), m("15.00"), d("2025-05-01"), d("2025-06-25"), 1, 55, 60, m("20.00"),
             4, 4, 1, 3, "Loyal", "growth"),
            ("Dd", 121, 3, m("200.10"), m("66.70"), d("2025-01-10"), d("2025-03-01"), 1, 50, 171,
             m("100.05"), 2, 5, 4, 5, "Cannot Lose Them", "growth"),
            ("E", 181, 1, m("1000.00"), m("1000.00"), d("2024-12-31"), d("2024-12-31"), 0, 0, 181,
             m("0.00"), 1, 2, 5, 4, "Cannot Lose Them", "potential"),
        ],
    )
    # fmt: on
    assert_frames_match(rfm, expected, keys=["customer_id"], money_cols=MART_MONEY["mart_customer_rfm"])
    # types of the oracle output
    assert all(isinstance(v, Decimal) for v in rfm["monetary"])
    assert str(rfm["r_score"].dtype) == "Int64"
    assert all(isinstance(v, dt.date) for v in rfm["first_purchase_date"])


def test_avg_order_value_and_repeat_average_round_half_away_from_zero():
    raw = make_raw(
        "2025-06-30",
        orders=[
            # X: 100.00 / 3 = 33.333.. -> 33.33; repeat days 33.33 and 33.34: 66.67 / 2 = 33.335 -> 33.34
            order("x1", "X", "w", noon("2025-06-01"), "33.33"),
            order("x2", "X", "w", noon("2025-06-02"), "33.33"),
            order("x3", "X", "w", noon("2025-06-03"), "33.34"),
            # Y: 0.05 / 2 = 0.025 -> 0.03 (banker's rounding would give 0.02); repeat day 0.03
            order("y1", "Y", "w", noon("2025-06-01"), "0.02"),
            order("y2", "Y", "w", noon("2025-06-02"), "0.03"),
            # Z: 20.01 / 2 = 10.005 -> 10.01 (a float 10.005 rounds to 10.00); one day: no repeat -> 0.00
            order("z1", "Z", "w", noon("2025-06-05"), "10.00"),
            order("z2", "Z", "w", "2025-06-05T06:00:00Z", "10.01"),
            # R: 5.03 / 3 = 1.676.. -> 1.68; repeat days 0.01, 0.02: 0.015 -> 0.02
            order("r1", "R", "w", noon("2025-06-01"), "5.00"),
            order("r2", "R", "w", noon("2025-06-02"), "0.01"),
            order("r3", "R", "w", noon("2025-06-03"), "0.02"),
        ],
    )
    rfm = compute_core_marts(raw, SEEDS)["mart_customer_rfm"]
    got = rows_of(
        rfm, "customer_id", ["monetary", "avg_order_value", "repeat_frequency", "repeat_monetary_avg"]
    )
    assert got == {
        "X": (m("100.00"), m("33.33"), 2, m("33.34")),
        "Y": (m("0.05"), m("0.03"), 1, m("0.03")),
        "Z": (m("20.01"), m("10.01"), 0, m("0.00")),
        "R": (m("5.03"), m("1.68"), 2, m("0.02")),
    }
    assert str(rfm.set_index("customer_id").loc["Y", "avg_order_value"]) == "0.03"


def _tier_raw():
    # D = 2025-06-30: D-364 = 2024-07-01 (in the window), D-365 = 2024-06-30 (out).
    return make_raw(
        "2025-06-30",
        customers=[{"customer_id": "S1"}, {"customer_id": "S2"}, {"customer_id": "K"}],
        orders=[
            # 2024-06-30T16:30Z is 2024-07-01 00:30 in Shanghai = D-364: counts.
            order("s1", "S1", "w", "2024-06-30T16:30:00Z", "1000000.00"),
            # 2024-06-30 12:00 Shanghai = D-365: does not count.
            order("s2", "S2", "w", noon("2024-06-30"), "1000000.00"),
            order("s3", "S3", "w", noon("2025-06-30"), "999999.99"),
            order("s4a", "S4", "w", noon("2024-06-30"), "500000.00"),
            order("s4b", "S4", "w", noon("2025-06-30"), "500000.00"),
            order("s5a", "S5", "w", noon("2024-07-01"), "600000.00"),
            order("s5b", "S5", "w", noon("2025-06-30"), "400000.00"),
        ],
    )


def test_customer_tier_365_day_window_edges_and_tiers_mart():
    marts = compute_core_marts(_tier_raw(), SEEDS)
    # f_score: S1,S2,S3 bought once -> cume_dist 3/5 -> 3; S4,S5 twice -> 5.
    # S1: 1,000,000.00 at D-364 -> strategic. S2: at D-365 -> 0 in window, f 3 -> potential.
    # S3: 999,999.99 < 1,000,000 -> potential. S4: 500,000 in window -> growth (f 5).
    # S5: 600,000 (D-364) + 400,000 (D) = 1,000,000.00 >= threshold -> strategic.
    got = rows_of(marts["mart_customer_rfm"], "customer_id", ["f_score", "customer_tier"])
    assert got == {
        "S1": (3, "strategic"),
        "S2": (3, "potential"),
        "S3": (3, "potential"),
        "S4": (5, "growth"),
        "S5": (5, "strategic"),
    }
    # mart_customer_tiers: the customers feed only (S1, S2, K); K never bought -> potential.
    tiers = rows_of(marts["mart_customer_tiers"], "customer_id", ["customer_tier"])
    assert tiers == {"S1": ("strategic",), "S2": ("potential",), "K": ("potential",)}


def test_thresholds_come_from_the_seed_files(tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    text = (seeds / "mart_thresholds.csv").read_text()
    text = text.replace("strategic_revenue_365d,1000000,", "strategic_revenue_365d,999999.99,")
    (seeds / "mart_thresholds.csv").write_text(text)
    got = rows_of(
        compute_core_marts(_tier_raw(), seeds)["mart_customer_rfm"], "customer_id", ["customer_tier"]
    )
    assert got["S3"] == ("strategic",)  # 999,999.99 now reaches the threshold
    assert got["S2"] == ("potential",)  # still outside the window


def test_late_refund_removes_the_purchase_and_history_uses_arrived_records():
    # fmt: off
    raw = make_raw(
        "2025-04-02",
        orders=[
            order("O1", "r1", "w", noon("2025-03-05"), "100.00", part="2025-03-05"),
            # the refund of O1 arrives on 2025-04-01
            order("O1", "r1", "w", noon("2025-03-05"), "100.00", status="refunded",
                  part="2025-04-01", updated="2025-04-01T01:00:00Z"),
            order("O2", "r1", "w", noon("2025-03-06"), "50.00"),
            # O3 refunded on 03-20; a stale `paid` copy (older updated_at) re-arrives on 03-25
            order("O3", "r1", "w", noon("2025-03-07"), "70.00", status="refunded",
                  part="2025-03-20", updated="2025-03-20T01:00:00Z"),
            order("O3", "r1", "w", noon("2025-03-07"), "70.00", part="2025-03-25",
                  updated="2025-03-07T04:00:00Z"),
            order("O4", "r2", "w", noon("2025-02-10"), "20.00"),
        ],
    )
    # fmt: on
    marts = compute_core_marts(raw, SEEDS)
    # Now (D = 2025-04-02): r1 has only O2 (Mar 6): recency 27; r2: Feb 10 -> recency 51.
    # r: r2 1/2 -> 3, r1 5; f: both 1 -> 5; m: r2 20 -> 3, r1 50 -> 5; fm r1 5, r2 ceil(8/2)=4.
    # fmt: off
    cols = ["frequency", "monetary", "recency_days", "r_score", "f_score", "m_score", "fm_score",
            "rfm_segment", "customer_tier"]
    assert rows_of(marts["mart_customer_rfm"], "customer_id", cols) == {
        "r1": (1, m("50.00"), 27, 5, 5, 5, 5, "Champions", "growth"),
        "r2": (1, m("20.00"), 51, 3, 5, 3, 4, "Loyal", "growth"),
    }
    # fmt: on
    # History: complete months only (Feb, Mar; April is not complete on 04-02).
    # Feb (ME 02-28): r2 alone -> all scores 5 -> Champions, recency 18.
    # Mar (ME 03-31, records arrived by 03-31): O1 still paid, O3 refunded -> r1: O1 + O2,
    # 150.00 over 2 days (Mar 5, Mar 6): recency 25, repeat_frequency 1, recency_btyd 1, t_days 26,
    # repeat_monetary_avg 50.00, aov 75.00; r2: recency 49.
    # scores Mar: r: r2 1/2 -> 3, r1 5; f: r2 3, r1 5; m: r2 3, r1 5 -> fm r1 5, r2 3.
    hist = marts["mart_customer_rfm_history"]
    # fmt: off
    hcols = ["frequency", "monetary", "avg_order_value", "recency_days", "repeat_frequency", "recency_btyd",
             "t_days", "repeat_monetary_avg", "r_score", "f_score", "m_score", "fm_score", "rfm_segment",
             "customer_tier"]
    expected = frame(
        ["customer_id", "month"] + hcols,
        [
            ("r2", d("2025-02-01"), 1, m("20.00"), m("20.00"), 18, 0, 0, 18, m("0.00"), 5, 5, 5, 5,
             "Champions", "growth"),
            ("r1", d("2025-03-01"), 2, m("150.00"), m("75.00"), 25, 1, 1, 26, m("50.00"), 5, 5, 5, 5,
             "Champions", "growth"),
            ("r2", d("2025-03-01"), 1, m("20.00"), m("20.00"), 49, 0, 0, 49, m("0.00"), 3, 3, 3, 3,
             "Need Attention", "potential"),
        ],
    )
    # fmt: on
    assert_frames_match(hist, expected, keys=["customer_id", "month"])
    # The late refund also moves revenue out of March in the channel marts: only O2 counts.
    health = marts["mart_channel_health"].set_index(["channel_id", "month"])
    assert health.loc[("w", d("2025-03-01")), "revenue"] == m("50.00")
    funnel = marts["mart_channel_funnel"].set_index(["channel_id", "month"])
    assert funnel.loc[("w", d("2025-03-01")), "orders"] == 1


def test_order_just_before_midnight_utc_is_next_day_in_shanghai():
    orders = [
        order("t1", "z1", "w", "2025-03-01T23:30:00Z", "10.00"),  # 2025-03-02 07:30 Shanghai
        order("t2", "z2", "w", "2025-02-28T16:30:00Z", "20.00"),  # 2025-03-01 00:30 Shanghai
        order("t3", "z3", "w", "2025-02-28T15:59:59Z", "30.00"),  # 2025-02-28 23:59:59 Shanghai
        # 2025-03-03 00:00 Shanghai: after D, not a purchase yet (it arrived in partition 03-02)
        order("t4", "z1", "w", "2025-03-02T16:00:00Z", "40.00", part="2025-03-02"),
    ]
    marts = compute_core_marts(make_raw("2025-03-02", orders=orders), SEEDS)
    got = rows_of(
        marts["mart_customer_rfm"], "customer_id", ["last_purchase_date", "recency_days", "frequency"]
    )
    assert got == {
        "z1": (d("2025-03-02"), 0, 1),
        "z2": (d("2025-03-01"), 1, 1),
        "z3": (d("2025-02-28"), 2, 1),
    }
    funnel = marts["mart_channel_funnel"].set_index(["channel_id", "month"])
    assert funnel.loc[("w", d("2025-03-01")), "orders"] == 2  # t1, t2
    assert funnel.loc[("w", d("2025-02-01")), "orders"] == 1  # t3
    # The same data read in UTC: t1 is on 03-01 and t4 on 03-02 (<= D) becomes a purchase.
    utc = compute_core_marts(make_raw("2025-03-02", orders=orders), SEEDS, tz="UTC")
    got = rows_of(
        utc["mart_customer_rfm"], "customer_id", ["first_purchase_date", "last_purchase_date", "frequency"]
    )
    assert got["z1"] == (d("2025-03-01"), d("2025-03-02"), 2)
    assert got["z2"] == (d("2025-02-28"), d("2025-02-28"), 1)


# ----------------------------------------------------------------------------------------------
# mart_channel_funnel
# ----------------------------------------------------------------------------------------------


def test_traffic_funnel_rates_zero_denominators_and_repeat_buyers():
    def act(day, ch, v, s, i, c, sp, part=None):
        return {"activity_date": day, "channel_id": ch, "visits": v, "avg_visit_seconds": s,
                "inquiries": i, "carts": c, "spend": sp,
                **({"_partition_date": part} if part else {})}  # fmt: skip

    raw = make_raw(
        "2025-05-31",
        channels=[
            {"channel_id": "web", "channel_type": "direct"},
            {"channel_id": "shop", "channel_type": "platform"},
        ],
        channel_activity=[
            act("2025-05-01", "web", 80, 30.0, 10, 5, "100.00"),
            act("2025-05-01", "web", 100, 30.0, 10, 5, "100.00", part="2025-05-02"),  # correction wins
            act("2025-05-02", "web", 300, 50.0, None, 15, "50.50"),
            act("2025-05-03", "web", None, 99.0, 2, None, None),
            act("2025-05-04", "zero", 0, 12.0, 0, 0, "0.00"),  # unknown channel, no visits
            act("2025-06-01", "web", 999, 10.0, 9, 9, "9.00", part="2025-05-31"),  # after D
        ],
        orders=[
            order("a1", "cust2", "web", noon("2025-04-02"), "10.00"),
            order("a2", "cust3", "web", noon("2025-04-03"), "10.00"),
            order("b1", "cust1", "web", noon("2025-05-03"), "10.00"),
            order("b2", "cust1", "web", noon("2025-05-20"), "10.00"),
            order("b3", "cust2", "web", noon("2025-05-10"), "10.00"),
            order("b4", "cust4", "web", noon("2025-05-11"), "10.00"),
            order("b5", "cust4", "shop", noon("2025-05-12"), "10.00"),
            order("b6", "cust5", "web", noon("2025-05-13"), "10.00", status="cancelled"),
        ],
    )
    funnel = compute_core_marts(raw, SEEDS)["mart_channel_funnel"]
    # web May: visits 100+300 = 400; avg seconds (100*30 + 300*50) / 400 = 45.0 (day 3 has no visits);
    # inquiries 10+2 = 12; carts 5+15 = 20; orders b1,b2,b3,b4 = 4; buyers 3; repeat: cust1 (2 in May),
    # cust2 (Apr + May) -> 2, cust4 has one web purchase -> not. Rates 12/400, 20/400, 4/12, 4/400, 2/3.
    # below_benchmark: 0.01 < 0.02 (direct) -> true (win_rate NULL does not matter: SQL OR).
    # web Apr: no activity -> all traffic rates NULL; 2 orders, 2 buyers, no repeat yet -> 0.0.
    # zero May: visits 0 (avg 12.0 weighs nothing) -> avg NULL, every rate NULL, unknown type -> NULL.
    # shop May: 1 order, no visits -> rates NULL; repeat_rate 0/1.
    # fmt: off
    cols = ["visits", "avg_visit_seconds", "inquiries", "carts", "orders", "buyers", "repeat_buyers",
            "inquiry_rate", "cart_rate", "close_rate", "visit_to_order_rate", "repeat_rate",
            "leads_created", "leads_won", "qualified_rate", "win_rate", "cycle_days_median",
            "cycle_within_target", "below_benchmark"]
    expected = frame(
        ["channel_id", "month"] + cols,
        [
            ("web", d("2025-05-01"), 400, 45.0, 12, 20, 4, 3, 2, 0.03, 0.05, 1 / 3, 0.01, 2 / 3,
             0, 0, NA, NA, NA, NA, True),
            ("web", d("2025-04-01"), 0, NA, 0, 0, 2, 2, 0, NA, NA, NA, NA, 0.0,
             0, 0, NA, NA, NA, NA, NA),
            ("zero", d("2025-05-01"), 0, NA, 0, 0, 0, 0, 0, NA, NA, NA, NA, NA,
             0, 0, NA, NA, NA, NA, NA),
            ("shop", d("2025-05-01"), 0, NA, 0, 0, 1, 1, 0, NA, NA, NA, NA, 0.0,
             0, 0, NA, NA, NA, NA, NA),
        ],
    )
    # fmt: on
    assert_frames_match(funnel, expected, keys=["channel_id", "month"])


def test_lead_funnel_monotonic_counts_cohorts_and_cycle_percentiles():
    def lead(lid, stage, ch, ts, part=None):
        return {"lead_id": lid, "stage": stage, "channel_id": ch, "stage_ts": ts,
                **({"_partition_date": part} if part else {})}  # fmt: skip

    # fmt: off
    raw = make_raw(
        "2025-06-30",
        channels=[{"channel_id": "a", "channel_type": "partner"},
                  {"channel_id": "b", "channel_type": "direct"}],
        leads=[
            # L1: won without a proposal row -> counts in every step; cycle Jan 5 -> Jan 25 = 20
            lead("L1", "created", "a", noon("2025-01-05")), lead("L1", "qualified", "a", noon("2025-01-10")),
            lead("L1", "won", "a", noon("2025-01-25")),
            # L2: lost after proposal -> created, qualified, proposal
            lead("L2", "created", "a", noon("2025-01-10")), lead("L2", "qualified", "a", noon("2025-01-11")),
            lead("L2", "proposal", "a", noon("2025-01-12")), lead("L2", "lost", "a", noon("2025-01-20")),
            lead("L3", "created", "a", noon("2025-01-15")),
            # L4: Jan 20 -> Feb 19 = 30 (cohort January)
            lead("L4", "created", "a", noon("2025-01-20")), lead("L4", "won", "a", noon("2025-02-19")),
            # L5: no created row; earliest row 2025-01-31T17:00Z = Feb 1 in Shanghai -> cohort Feb, cycle 9
            lead("L5", "qualified", "a", "2025-01-31T17:00:00Z"), lead("L5", "won", "a", noon("2025-02-10")),
            # L6: earliest row through b -> channel b
            lead("L6", "created", "b", noon("2025-01-03")), lead("L6", "qualified", "a", noon("2025-01-04")),
            # L7: no created row, qualified (b) and proposal (a) at the same instant: funnel order -> b
            lead("L7", "proposal", "a", noon("2025-01-06")), lead("L7", "qualified", "b", noon("2025-01-06")),
            # L8: Jan 2 -> Mar 13 = 29 + 28 + 13 = 70
            lead("L8", "created", "a", noon("2025-01-02")), lead("L8", "won", "a", noon("2025-03-13")),
            # L9: won after D -> not won yet (created, qualified)
            lead("L9", "created", "a", noon("2025-01-08")), lead("L9", "qualified", "a", noon("2025-01-09")),
            lead("L9", "won", "a", noon("2025-07-05"), part="2025-06-30"),
            # L10: the won row is corrected by a later partition: Jan 12 -> Jan 22 = 10
            lead("L10", "created", "a", noon("2025-01-12")),
            lead("L10", "won", "a", noon("2025-03-01"), part="2025-03-01"),
            lead("L10", "won", "a", noon("2025-01-22"), part="2025-03-02"),
            # L11: unknown channel c, Mar 1 -> Apr 15 = 45 > 30
            lead("L11", "created", "c", noon("2025-03-01")), lead("L11", "won", "c", noon("2025-04-15")),
            # L12: a qualified row (channel d) earlier than the created row (channel e): the channel is
            # that of the earliest row (d), the cohort month and cycle start that of the created row
            # (Apr 2): cohort April, cycle Apr 2 -> Apr 12 = 10
            lead("L12", "qualified", "d", noon("2025-03-28")),
            lead("L12", "created", "e", noon("2025-04-02")),
            lead("L12", "won", "e", noon("2025-04-12")),
        ],
    )
    # fmt: on
    funnel = compute_core_marts(raw, SEEDS)["mart_channel_funnel"]
    # a / Jan: L1 L2 L3 L4 L8 L9 L10 -> created 7; qualified (has qualified or later) L1 L2 L4 L8 L9 L10
    # = 6; proposal L1 L2 L4 L8 L10 = 5; won L1 L4 L8 L10 = 4. Cycles [10, 20, 30, 70]:
    # median: h = 0.5*3 = 1.5 -> 20 + 0.5*10 = 25; p90: h = 0.9*3 = 2.7 -> 30 + 0.7*40 = 58.
    # below_benchmark: visit_to_order_rate NULL, win 4/7 >= 0.20 -> NULL OR false = NULL.
    # a / Feb: L5 -> 1,1,1,1; cycle 9; b / Jan: L6 (created, qualified), L7 (.., proposal) -> 2,2,1,0:
    # rates 1, 0.5, 0, 0; win 0 < 0.25 (direct) -> true. c / Mar: L11, cycle 45 -> not within 30.
    # fmt: off
    cols = ["leads_created", "leads_qualified", "leads_proposal", "leads_won", "qualified_rate",
            "proposal_rate", "won_rate", "win_rate", "cycle_days_median", "cycle_days_p90",
            "cycle_within_target", "below_benchmark", "visits", "orders", "visit_to_order_rate"]
    expected = frame(
        ["channel_id", "month"] + cols,
        [
            ("a", d("2025-01-01"), 7, 6, 5, 4, 6 / 7, 5 / 6, 4 / 5, 4 / 7, 25.0, 58.0, True, NA, 0, 0, NA),
            ("a", d("2025-02-01"), 1, 1, 1, 1, 1.0, 1.0, 1.0, 1.0, 9.0, 9.0, True, NA, 0, 0, NA),
            ("b", d("2025-01-01"), 2, 2, 1, 0, 1.0, 0.5, 0.0, 0.0, NA, NA, NA, True, 0, 0, NA),
            ("c", d("2025-03-01"), 1, 1, 1, 1, 1.0, 1.0, 1.0, 1.0, 45.0, 45.0, False, NA, 0, 0, NA),
            ("d", d("2025-04-01"), 1, 1, 1, 1, 1.0, 1.0, 1.0, 1.0, 10.0, 10.0, True, NA, 0, 0, NA),
        ],
    )
    # fmt: on
    assert_frames_match(funnel, expected, keys=["channel_id", "month"])


# ----------------------------------------------------------------------------------------------
# mart_nps
# ----------------------------------------------------------------------------------------------


def _nps_raw():
    def resp(rid, cust, ch, ts, score, csat=None, part=None):
        return {
            "response_id": rid,
            "customer_id": cust,
            "channel_id": ch,
            "submitted_at": ts,
            "nps_score": score,
            "csat_score": csat,
            **({"_partition_date": part} if part else {}),
        }

    return make_raw(
        "2025-04-30",
        customers=[{"customer_id": "G"}, {"customer_id": "P1"}, {"customer_id": "P2"}],
        orders=[order("g1", "G", "x", noon("2025-01-15"), "100.00")],  # G: only buyer -> f 5 -> growth
        surveys=[
            resp("r11", "P1", "z", noon("2025-02-10"), 0, 1),
            resp("r1", "G", "x", noon("2025-03-05"), 10, 5),
            resp("r2", "P1", "x", noon("2025-03-06"), 9, None),
            resp("r3", "P2", "y", noon("2025-03-07"), 3, 2),
            resp("r4", "G", "x", noon("2025-04-02"), 6, 4),
            resp("r6", "G", "x", noon("2025-04-10"), 8, None),
            resp("r5", "G", "y", noon("2025-04-20"), 10, 5),
            resp("r7", "P1", None, noon("2025-04-05"), 9, 3),
            resp("r8", "P2", "x", noon("2025-04-03"), 7, 4),
            resp("r8", "P2", "x", noon("2025-04-03"), 2, 4, part="2025-04-04"),  # corrected: latest counts
            resp("r12", "P2", "z", noon("2025-04-01"), 10, None),
            resp("r9", "U", "y", noon("2025-04-15"), 10, None),  # U: unknown customer -> potential
            resp("r10", "P1", "x", "2025-04-30T16:30:00Z", 0, 1),  # May 1 in Shanghai: after D
        ],
    )


def test_nps_grains_margin_of_error_and_change():
    nps = compute_core_marts(_nps_raw(), SEEDS)["mart_nps"]
    moe_2_1_of_3 = 196 * math.sqrt((1 - 1 / 9) / 3)  # p=2/3, d=1/3: p+d-(p-d)^2 = 8/9 -> 106.6888..
    moe_3_1_of_4 = 196 * math.sqrt(0.75 / 4)  # p=3/4, d=1/4: 1 - 1/4 -> 84.8704..
    moe_1_1_of_2 = 196 * math.sqrt(1 / 2)  # p=d=1/2: 1 - 0 -> 138.5929..
    moe_0_1_of_2 = 196 * math.sqrt(0.25 / 2)  # p=0, d=1/2: 1/2 - 1/4 -> 69.2964..
    cols = [
        "grain",
        "channel_id",
        "customer_tier",
        "month",
        "responses",
        "promoters",
        "passives",
        "detractors",
        "nps",
        "nps_moe_95",
        "low_sample",
        "csat",
        "nps_change",
    ]
    F, M, A = d("2025-02-01"), d("2025-03-01"), d("2025-04-01")
    expected = frame(
        cols,
        [
            # all: Feb P1 0 | Mar G 10, P1 9, P2 3
            #      Apr G r5 10 (latest of 3), P1 r7 9, P2 r8 2 (corrected), U 10
            ("all", NA, NA, F, 1, 0, 0, 1, -100.0, 0.0, True, 0.0, NA),
            ("all", NA, NA, M, 3, 2, 0, 1, 100 / 3, moe_2_1_of_3, True, 0.5, 100 / 3 + 100),
            ("all", NA, NA, A, 4, 3, 0, 1, 50.0, moe_3_1_of_4, True, 2 / 3, 50 - 100 / 3),
            # tier: G growth; P1, P2 never bought -> potential; U unknown -> potential
            ("tier", NA, "potential", F, 1, 0, 0, 1, -100.0, 0.0, True, 0.0, NA),
            ("tier", NA, "growth", M, 1, 1, 0, 0, 100.0, 0.0, True, 1.0, NA),
            ("tier", NA, "potential", M, 2, 1, 0, 1, 0.0, moe_1_1_of_2, True, 0.0, 100.0),
            ("tier", NA, "growth", A, 1, 1, 0, 0, 100.0, 0.0, True, 1.0, 0.0),
            ("tier", NA, "potential", A, 3, 2, 0, 1, 100 / 3, moe_2_1_of_3, True, 0.5, 100 / 3),
            # channel: latest answer per customer, month and channel; r7 (no channel) is not here
            ("channel", "z", NA, F, 1, 0, 0, 1, -100.0, 0.0, True, 0.0, NA),
            ("channel", "x", NA, M, 2, 2, 0, 0, 100.0, 0.0, True, 1.0, NA),
            ("channel", "y", NA, M, 1, 0, 0, 1, -100.0, 0.0, True, 0.0, NA),
            # x Apr: G r6 8 (latest of r4, r6), P2 r8 2 -> -50; csat only r8 (4) -> 1.0; change -50 - 100
            ("channel", "x", NA, A, 2, 0, 1, 1, -50.0, moe_0_1_of_2, True, 1.0, -150.0),
            ("channel", "y", NA, A, 2, 2, 0, 0, 100.0, 0.0, True, 1.0, 200.0),
            # z Apr: no March row for z -> nps_change NULL; no csat answered -> csat NULL
            ("channel", "z", NA, A, 1, 1, 0, 0, 100.0, 0.0, True, NA, NA),
        ],
    )
    assert_frames_match(nps, expected, keys=MART_KEYS["mart_nps"])


def test_nps_low_sample_threshold_from_seed(tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    text = (seeds / "mart_thresholds.csv").read_text().replace("nps_low_sample,30,", "nps_low_sample,3,")
    (seeds / "mart_thresholds.csv").write_text(text)
    nps = compute_core_marts(_nps_raw(), seeds)["mart_nps"]
    alls = nps[nps["grain"] == "all"].set_index("month")["low_sample"]
    # responses Feb 1, Mar 3, Apr 4: low_sample = responses < 3
    assert alls.to_dict() == {d("2025-02-01"): True, d("2025-03-01"): False, d("2025-04-01"): False}


# ----------------------------------------------------------------------------------------------
# mart_channel_health
# ----------------------------------------------------------------------------------------------


def _health_raw():
    def act(day, ch, spend, visits=None):
        return {"activity_date": day, "channel_id": ch, "spend": spend, "visits": visits}

    o = lambda oid, cust, ch, day, amount: order(oid, cust, ch, noon(day), amount)  # noqa: E731
    return make_raw(
        "2025-06-30",
        channels=[
            {"channel_id": "hA", "channel_type": "direct"},
            {"channel_id": "hB", "channel_type": "partner"},
        ]
        + [{"channel_id": c, "channel_type": "platform"} for c in ("hC", "hD", "hE", "hF", "hG", "hH", "hI")],
        channel_activity=[
            act("2025-03-15", "hA", "300.00", 1000),
            act("2025-04-15", "hA", "200.00", 0),
            act("2025-05-15", "hA", "60.00", 50),
            act("2025-05-20", "hA", "40.00", None),
            act("2025-01-15", "hB", "100.00", 100),
            act("2025-02-15", "hB", "100.05", 100),
            act("2025-04-15", "hB", "10.00", None),
            act("2025-05-15", "hC", "10.00"),
            act("2025-05-15", "hD", "10.00"),
            act("2025-05-15", "hE", "10.00"),
            act("2025-05-15", "hG", "20.00"),
        ]
        + [act("2025-06-15", c, "10.00") for c in ("hC", "hD", "hE", "hG", "hH", "hI")],
        orders=[
            o("c0a", "c0", "hA", "2024-03-31", "1000.00"),
            o("c0b", "c0", "hB", "2024-04-01", "10.00"),
            o("c1a", "c1", "hA", "2025-03-10", "100.00"),
            o("c1b", "c1", "hB", "2025-04-20", "200.00"),
            o("c1c", "c1", "hA", "2025-06-01", "1000.00"),
            o("c2", "c2", "hA", "2025-04-05", "50.00"),
            o("c3", "c3", "hA", "2025-05-10", "10.00"),
            o("c4", "c4", "hA", "2025-05-11", "20.00"),
            o("d1", "d1", "hB", "2025-01-10", "10.00"),
            o("d2", "d2", "hB", "2025-01-11", "10.00"),
            o("d3", "d3", "hB", "2025-01-12", "10.00"),
            o("d4", "d4", "hB", "2025-02-10", "5.00"),
            o("d5", "d5", "hB", "2025-02-11", "5.00"),
            o("d6", "d6", "hB", "2025-04-06", "5.00"),
            o("e1", "e1", "hC", "2025-05-10", "3.00"),
            o("e2", "e2", "hD", "2025-05-10", "20.00"),
            o("e3", "e3", "hF", "2025-05-10", "5.00"),
            o("e4", "e4", "hG", "2025-05-10", "40.00"),
            o("f1", "f1", "hC", "2025-06-10", "50.00"),
            o("f2", "f2", "hD", "2025-06-10", "30.00"),
            o("f3", "f3", "hE", "2025-06-10", "30.00"),
            o("f4", "f4", "hG", "2025-06-10", "10.00"),
            o("f5", "f5", "hH", "2025-06-10", "10.00"),
            o("f6", "f6", "hI", "2025-06-10", "10.00"),
        ],
    )


def test_channel_health_cac_clv_roi_streak():
    health = compute_core_marts(_health_raw(), SEEDS)["mart_channel_health"]
    # CLV = cohort revenue (any channel, dated ME-364..ME) / cohort size * 0.4 * 3, to the cent.
    # hA cohort: c0 (first 2024-03-31), c1 (2025-03), c2 (2025-04), c3, c4 (2025-05).
    #  2024-03: c0 1000 in window -> 1200.00; cac 0.00/1 = 0.00, not > 360 -> false.
    #  2025-03: window 2024-04-01..2025-03-31: c0 10 (hB, D-364 edge) + c1 100 = 110 / 2 * 1.2 = 66.00;
    #           cac 300.00 > 19.80 -> streak 1 (no Feb row); conversion 1/1000 < 0.02 -> true.
    #  2025-04: window from 2024-05-01 (c0's 04-01 out): 100 + 200 + 50 = 350 / 3 * 1.2 = 140.00;
    #           cac 200.00 > 42 -> streak 2; visits 0 -> conversion NULL.
    #  2025-05: 380 / 5 * 1.2 = 91.20; cac 100.00/2 = 50.00 > 27.36 -> streak 3 -> optimisation;
    #           conversion 2/50 = 0.04 >= 0.02 -> false.
    #  2025-06: no spend, no new customer -> cac NULL, roi NULL -> streak 0; clv 1380/5*1.2 = 331.20.
    # hB: 2024-04 only c0's order: no cohort -> clv NULL.
    #  2025-01: cac 100.00/3 = 33.33; clv 30/3*1.2 = 12.00; conversion 3/100 = 0.03, not < 0.03.
    #  2025-02: cac 100.05/2 = 50.025 -> 50.03; clv 40/5*1.2 = 9.60; conversion 0.02 < 0.03.
    #  2025-04: no March row -> streak restarts at 1; cac 10.00, clv 45/6*1.2 = 9.00; revenue 5 + 200.
    # roi_top_20pct: Mar {hA}, Jan {hB}, Feb {hB}: n=1 -> ceil(0.2)=1; Apr {hA .25, hB 20.5}: hB only.
    # fmt: off
    cols = ["spend", "new_customers", "cac", "revenue", "roi", "conversion", "clv", "cac_over_30pct_clv",
            "cac_trigger_streak", "optimisation_required", "conversion_below_benchmark", "roi_top_20pct"]
    expected = frame(
        ["channel_id", "month"] + cols,
        [
            ("hA", d("2024-03-01"), m("0.00"), 1, m("0.00"), m("1000.00"), NA, NA, m("1200.00"),
             False, 0, False, NA, False),
            ("hA", d("2025-03-01"), m("300.00"), 1, m("300.00"), m("100.00"), 1 / 3, 0.001, m("66.00"),
             True, 1, False, True, True),
            ("hA", d("2025-04-01"), m("200.00"), 1, m("200.00"), m("50.00"), 0.25, NA, m("140.00"),
             True, 2, False, NA, False),
            ("hA", d("2025-05-01"), m("100.00"), 2, m("50.00"), m("30.00"), 0.3, 0.04, m("91.20"),
             True, 3, True, False, False),
            ("hA", d("2025-06-01"), m("0.00"), 0, NA, m("1000.00"), NA, NA, m("331.20"),
             NA, 0, False, NA, False),
            ("hB", d("2024-04-01"), m("0.00"), 0, NA, m("10.00"), NA, NA, NA,
             NA, 0, False, NA, False),
            ("hB", d("2025-01-01"), m("100.00"), 3, m("33.33"), m("30.00"), 0.3, 0.03, m("12.00"),
             True, 1, False, False, True),
            ("hB", d("2025-02-01"), m("100.05"), 2, m("50.03"), m("10.00"), 10 / 100.05, 0.02, m("9.60"),
             True, 2, False, True, True),
            ("hB", d("2025-04-01"), m("10.00"), 1, m("10.00"), m("205.00"), 20.5, NA, m("9.00"),
             True, 1, False, NA, True),
        ],
    )
    # fmt: on
    hab = health[health["channel_id"].isin(["hA", "hB"])]
    money = MART_MONEY["mart_channel_health"]
    assert_frames_match(hab, expected, keys=["channel_id", "month"], money_cols=money)


def test_roi_top_20pct_with_ties():
    health = compute_core_marts(_health_raw(), SEEDS)["mart_channel_health"]
    got = {
        (r.channel_id, r.month.month): (None if pd.isna(r.roi) else r.roi, bool(r.roi_top_20pct))
        for r in health.itertuples()
        if r.month.year == 2025 and r.month.month in (5, 6)
    }
    # May: rois hA 0.3, hC 0.3, hD 2.0, hE 0.0, hG 2.0 (hF no spend -> NULL): 5 rois, ceil(0.2*5) = 1;
    # hD and hG share rank 1 -> both top.
    # June: hC 5, hD 3, hE 3, hG 1, hH 1, hI 1 (hA NULL): ceil(0.2*6) = 2; ranks 1, 2, 2, 4, 4, 4.
    assert got == {
        ("hA", 5): (0.3, False),
        ("hC", 5): (0.3, False),
        ("hD", 5): (2.0, True),
        ("hE", 5): (0.0, False),
        ("hF", 5): (None, False),
        ("hG", 5): (2.0, True),
        ("hA", 6): (None, False),
        ("hC", 6): (5.0, True),
        ("hD", 6): (3.0, True),
        ("hE", 6): (3.0, True),
        ("hG", 6): (1.0, False),
        ("hH", 6): (1.0, False),
        ("hI", 6): (1.0, False),
    }


def test_score_and_percentile_helpers_agree_with_sql_window_functions():
    # A cross-check of the two helpers against an SQL engine's cume_dist() and percentile_cont()
    # on random data with many ties (the marts' figures above are checked by hand).
    rng = np.random.default_rng(7)
    values = [int(v) for v in rng.integers(0, 12, size=57)]
    con = duckdb.connect()
    con.execute("create table t as select unnest(?) as v, generate_subscripts(?, 1) as i", [values, values])
    asc, desc = zip(
        *con.execute(
            "select ceil(5 * cume_dist() over (order by v))::int, "
            "ceil(5 * cume_dist() over (order by v desc))::int "
            "from t order by i"
        ).fetchall(),
        strict=True,
    )
    assert cume_dist_scores(values) == list(asc)
    assert cume_dist_scores(values, descending=True) == list(desc)
    for n in (1, 2, 3, 4, 10, 57):
        sub = values[:n]
        med, p90 = con.execute(
            "select percentile_cont(0.5) within group (order by v), "
            "percentile_cont(0.9) within group (order by v) "
            "from t where i <= ?",
            [n],
        ).fetchone()
        assert percentile_cont(sub, Fraction(1, 2)) == pytest.approx(med, rel=1e-12)
        assert percentile_cont(sub, Fraction(9, 10)) == pytest.approx(p90, rel=1e-12)
    con.close()


# ----------------------------------------------------------------------------------------------
# compare.assert_frames_match
# ----------------------------------------------------------------------------------------------


def _cmp_frames():
    expected = frame(
        ["k", "month", "money", "rate", "flag", "n"],
        [("a", d("2025-01-01"), m("1.00"), 0.5, True, 3), ("b", d("2025-01-01"), NA, NA, NA, 0)],
    )
    actual = pd.DataFrame(
        {
            "k": ["b", "a"],
            "month": [pd.Timestamp("2025-01-01"), pd.Timestamp("2025-01-01")],
            "money": [None, Decimal("1.0")],
            "rate": [np.nan, 0.5 + 1e-12],
            "flag": pd.array([pd.NA, True], dtype="boolean"),
            "n": pd.array([0, 3], dtype="Int64"),
            "extra_column": [1, 2],
        }
    )
    return actual, expected


def test_compare_accepts_equal_frames_with_mixed_null_kinds():
    actual, expected = _cmp_frames()
    assert_frames_match(actual, expected, keys=["k", "month"])


def test_compare_reports_differences_clearly():
    actual, expected = _cmp_frames()
    actual.loc[1, "money"] = Decimal("1.01")
    actual.loc[0, "flag"] = False
    with pytest.raises(AssertionError) as err:
        assert_frames_match(actual, expected, keys=["k", "month"])
    text = str(err.value)
    assert "k='a'" in text and "money" in text and "Decimal('1.01')" in text and "Decimal('1.00')" in text
    assert "k='b'" in text and "flag" in text and "NULL" in text


def test_compare_reports_missing_and_extra_keys_and_float_money():
    actual, expected = _cmp_frames()
    actual.loc[0, "k"] = "c"
    with pytest.raises(AssertionError, match=r"missing.*'b'(?s:.*)extra.*'c'"):
        assert_frames_match(actual, expected, keys=["k", "month"])
    actual, expected = _cmp_frames()
    actual["money"] = [None, 1.0]
    with pytest.raises(AssertionError, match="money as float"):
        assert_frames_match(actual, expected, keys=["k", "month"])
    actual, expected = _cmp_frames()
    actual["rate"] = [np.nan, 0.5001]
    with pytest.raises(AssertionError, match="rate"):
        assert_frames_match(actual, expected, keys=["k", "month"])


# ----------------------------------------------------------------------------------------------
# raw_io: DuckDB round trip
# ----------------------------------------------------------------------------------------------


def test_load_raw_and_load_mart_keep_decimals_and_utc(tmp_path):
    db = tmp_path / "w.duckdb"
    con = duckdb.connect(str(db))
    for stmt in raw_schema_ddl():
        con.execute(stmt)
    con.execute(
        """insert into raw.orders values
        ('t1', 'z1', 'w', '2025-03-01 23:30:00+00', 0.05, 'paid', '2025-03-01 23:30:00+00', null, null,
         'orders/2025-03-02.csv', 1, '2025-03-02', '2025-03-02 20:00:00+00'),
        ('t2', 'z1', 'w', '2025-03-01 10:00:00+00', 0.02, 'paid', '2025-03-01 10:00:00+00', null, null,
         'orders/2025-03-02.csv', 2, '2025-03-02', '2025-03-02 20:00:00+00')"""
    )
    con.execute("insert into raw.ingest_log (feed, partition_date) values ('orders', '2025-03-02')")
    con.execute("create schema marts")
    con.execute(
        "create table marts.mart_customer_rfm (customer_id varchar, monetary decimal(18,2), "
        "avg_order_value decimal(18,2), recency_days integer, first_purchase_date date, r_score integer)"
    )
    con.execute("insert into marts.mart_customer_rfm values ('z1', 0.07, 0.04, 0, '2025-03-01', 5)")
    con.close()

    raw = load_raw(db)
    assert set(FEEDS) | {"ingest_log"} <= set(raw)
    orders = raw["orders"]
    assert [type(v) for v in orders["amount"]] == [Decimal, Decimal]
    assert list(orders["amount"]) == [m("0.05"), m("0.02")]
    assert str(orders["order_ts"].dt.tz) == "UTC"
    assert orders["order_ts"].iloc[0] == pd.Timestamp("2025-03-01T23:30:00Z")
    assert orders["_partition_date"].iloc[0] == d("2025-03-02")

    rfm = compute_core_marts(raw, SEEDS)["mart_customer_rfm"]
    # z1: 0.05 + 0.02 = 0.07 over 2 orders -> 0.035 -> 0.04; t1 is 03-02 and t2 03-01 in Shanghai.
    mart = load_mart(db, "mart_customer_rfm")
    assert isinstance(mart["monetary"].iloc[0], Decimal)
    cols = ["customer_id", "monetary", "avg_order_value", "recency_days", "first_purchase_date", "r_score"]
    assert_frames_match(mart, rfm[cols], keys=["customer_id"])
