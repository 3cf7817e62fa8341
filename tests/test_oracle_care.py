"""Unit tests of the independent pandas oracle for the care and sales marts (tests/oracle/care_marts.py).

Every expected value below is worked out by hand from the specification,
docs/mart_rules.md, on tiny hand-made raw tables; the working is in
the comments. Time zone Asia/Shanghai (UTC+8, no DST): a UTC instant at 16:00 or later is the next
local day, and "the end of D" is D 16:00 UTC.
"""

from __future__ import annotations

import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.oracle.care_marts import compute_care_marts  # noqa: E402

SEEDS = ROOT / "seeds"
TZ = "Asia/Shanghai"

FEED_COLUMNS = {
    "customers": ("customer_id", "customer_type", "name", "phone", "email", "region", "industry",
                  "signup_ts", "updated_at"),
    "channels": ("channel_id", "channel_name", "channel_type", "sub_type", "region",
                 "authorized_regions", "status", "updated_at"),
    "channel_activity": ("activity_date", "channel_id", "visits", "avg_visit_seconds", "inquiries",
                         "carts", "spend"),
    "leads": ("lead_id", "channel_id", "stage", "stage_ts", "customer_id", "industry"),
    "orders": ("order_id", "customer_id", "channel_id", "order_ts", "amount", "status", "updated_at",
               "ship_region", "is_referral"),
    "surveys": ("response_id", "customer_id", "channel_id", "submitted_at", "nps_score", "csat_score",
                "comment"),
    "complaints": ("ticket_id", "customer_id", "channel_id", "opened_at", "first_response_at",
                   "resolved_at", "category", "severity", "updated_at"),
    "sales_targets": ("month", "channel_id", "revenue_target", "new_customers_target"),
}
TIMESTAMPS = {"signup_ts", "updated_at", "stage_ts", "order_ts", "submitted_at", "opened_at",
              "first_response_at", "resolved_at"}


# ----------------------------------------------------------------------------------------------
# builders of raw tables (shaped like tests/oracle/raw_io.load_raw: money Decimal, timestamps UTC)
# ----------------------------------------------------------------------------------------------


def _frame(feed: str, rows: list[dict], d: str) -> pd.DataFrame:
    cols = FEED_COLUMNS[feed]
    recs = []
    for i, r in enumerate(rows, start=1):
        unknown = set(r) - set(cols) - {"_partition_date", "_source_file"}
        assert not unknown, unknown
        rec = {c: r.get(c) for c in cols}
        rec["_source_file"] = r.get("_source_file", f"{feed}.csv")
        rec["_line_number"] = i
        rec["_partition_date"] = date.fromisoformat(r.get("_partition_date", d))
        rec["_ingested_at"] = pd.Timestamp("2024-12-31T00:00:00Z")
        recs.append(rec)
    df = pd.DataFrame(recs, columns=[*cols, "_source_file", "_line_number", "_partition_date",
                                     "_ingested_at"])
    for c in cols:
        if c in TIMESTAMPS:
            df[c] = pd.to_datetime(df[c], utc=True)
        elif c in ("amount", "spend", "revenue_target"):
            df[c] = [None if v is None else Decimal(v) for v in df[c]]
    return df


def make_raw(d: str, **feeds: list[dict]) -> dict[str, pd.DataFrame]:
    raw = {name: _frame(name, feeds.get(name, []), d) for name in FEED_COLUMNS}
    raw["ingest_log"] = pd.DataFrame(
        {"feed": ["orders"], "partition_date": [date.fromisoformat(d)], "source_file": [None]}
    )
    return raw


def order(oid, cid, ts, amount, ch="K1", status="paid", updated=None, **kw) -> dict:
    return {"order_id": oid, "customer_id": cid, "channel_id": ch, "order_ts": ts, "amount": amount,
            "status": status, "updated_at": updated or ts, "is_referral": kw.pop("is_referral", False),
            **kw}


def core(tiers: dict[str, str] | None = None, nps: list[dict] | None = None) -> dict:
    """A hand-made core dict (what compute_core_marts returns) with only the columns used."""
    tiers = tiers or {}
    rfm = pd.DataFrame(
        {
            "customer_id": list(tiers),
            "customer_tier": list(tiers.values()),
            "rfm_segment": ["Champions"] * len(tiers),
            "monetary": [Decimal("1.00")] * len(tiers),
        }
    )
    nps_df = pd.DataFrame(nps or [], columns=["grain", "channel_id", "customer_tier", "month", "nps",
                                              "csat"])
    return {"mart_customer_rfm": rfm, "mart_nps": nps_df,
            "mart_customer_tiers": rfm[["customer_id", "customer_tier"]]}


def row(df: pd.DataFrame, **eq) -> dict:
    m = df
    for k, v in eq.items():
        m = m[m[k].isna()] if v is None else m[m[k] == v]
    assert len(m) == 1, f"{eq}: {len(m)} rows"
    return {k: (None if (v is pd.NA or v is None or (isinstance(v, float) and v != v)) else v)
            for k, v in m.iloc[0].to_dict().items()}


def D(s: str) -> Decimal:
    return Decimal(s)


# ----------------------------------------------------------------------------------------------
# mart_churn_warning
# ----------------------------------------------------------------------------------------------


def churn_raw(d: str) -> dict:
    return make_raw(
        d,
        orders=[
            # cA: Jan 100.00 (60 + 40), Feb 80.00 (exactly 80 %: declines), Mar 64.00 (exactly 80 %),
            # Apr nothing: its April order was refunded later -> a drop to zero declines.
            order("a1", "cA", "2024-01-10T02:00:00Z", "60.00"),
            order("a2", "cA", "2024-01-11T02:00:00Z", "40.00"),
            order("a3", "cA", "2024-02-10T02:00:00Z", "80.00"),
            order("a4", "cA", "2024-03-10T02:00:00Z", "64.00"),
            order("a5", "cA", "2024-04-10T02:00:00Z", "70.00"),
            order("a5", "cA", "2024-04-10T02:00:00Z", "70.00", status="refunded",
                  updated="2024-04-20T00:00:00Z"),
            # cB: Jan 100, Feb 50, Mar 0, Apr 0. Mar declined, but m0 (Apr) follows a month without
            # revenue, so it does not decline: streak 0.
            order("b1", "cB", "2024-01-10T02:00:00Z", "100.00"),
            order("b2", "cB", "2024-02-10T02:00:00Z", "50.00"),
            # cC: Feb 100, Mar 80.01 (80.01 %: no decline), Apr 10 (declines): streak 1.
            order("c1", "cC", "2024-02-10T02:00:00Z", "100.00"),
            order("c2", "cC", "2024-03-10T02:00:00Z", "80.01"),
            order("c3", "cC", "2024-04-10T02:00:00Z", "10.00"),
            # cE: 2024-03-31 16:30 UTC is 2024-04-01 00:30 in Shanghai: April 50.00, March 0.
            order("e1", "cE", "2024-03-31T16:30:00Z", "50.00"),
            # cF: only in the month of D (incomplete): no row. cG: only before m3: no row.
            order("f1", "cF", "2024-05-10T02:00:00Z", "10.00"),
            order("g1", "cG", "2023-12-20T02:00:00Z", "10.00"),
            # cH: flat 10.00 every month: equal is not a decline.
            *[order(f"h{m}", "cH", f"2024-0{m}-05T02:00:00Z", "10.00") for m in (1, 2, 3, 4)],
        ],
    )


def test_churn_warning_streaks_exact_80pct_and_drop_to_zero():
    tiers = {"cA": "strategic", "cB": "growth", "cC": "potential", "cE": "potential", "cF": "potential",
             "cG": "potential", "cH": "growth"}
    out = compute_care_marts(churn_raw("2024-05-15"), SEEDS, TZ, core(tiers))["mart_churn_warning"]
    # D = 2024-05-15: May is incomplete, so m0 = April, m1 = March, m2 = February, m3 = January.
    assert sorted(out["customer_id"]) == ["cA", "cB", "cC", "cE", "cH"]
    a = row(out, customer_id="cA")
    assert a["month"] == date(2024, 4, 1)
    assert [a[f"spend_m{k}"] for k in range(4)] == [D("0.00"), D("64.00"), D("80.00"), D("100.00")]
    assert a["decline_streak"] == 3 and a["churn_warning"] is True
    assert a["customer_tier"] == "strategic" and a["rfm_segment"] == "Champions"
    assert a["monetary"] == D("1.00")
    assert a["win_back_offer"] == (
        "Executive visit by the account director with a tailored annual framework offer"
    )
    b = row(out, customer_id="cB")
    assert [b[f"spend_m{k}"] for k in range(4)] == [D("0.00"), D("0.00"), D("50.00"), D("100.00")]
    assert b["decline_streak"] == 0 and b["churn_warning"] is False
    assert b["win_back_offer"] == "10% off the next order and a call from the key-account manager"
    c = row(out, customer_id="cC")
    assert [c[f"spend_m{k}"] for k in range(4)] == [D("10.00"), D("80.01"), D("100.00"), D("0.00")]
    assert c["decline_streak"] == 1 and c["churn_warning"] is False
    e = row(out, customer_id="cE")
    assert [e[f"spend_m{k}"] for k in range(4)] == [D("50.00"), D("0.00"), D("0.00"), D("0.00")]
    assert e["decline_streak"] == 0
    h = row(out, customer_id="cH")
    assert h["decline_streak"] == 0 and h["churn_warning"] is False


def test_churn_warning_month_of_d_is_complete_on_its_last_day():
    tiers = {c: "potential" for c in ("cA", "cB", "cC", "cE", "cF", "cG", "cH")}
    out = compute_care_marts(churn_raw("2024-04-30"), SEEDS, TZ, core(tiers))["mart_churn_warning"]
    # D = 2024-04-30 is April's last day: m0 = April; cF's May order is after D (not a purchase).
    assert sorted(out["customer_id"]) == ["cA", "cB", "cC", "cE", "cH"]
    a = row(out, customer_id="cA")
    assert a["month"] == date(2024, 4, 1) and a["decline_streak"] == 3 and a["churn_warning"] is True


# ----------------------------------------------------------------------------------------------
# mart_loyalty
# ----------------------------------------------------------------------------------------------


def test_loyalty_points_tiers_tier_since_and_refund():
    raw = make_raw(
        "2024-05-15",
        customers=[
            {"customer_id": "L1", "updated_at": "2024-01-01T00:00:00Z"},
            {"customer_id": "L1", "updated_at": "2024-02-01T00:00:00Z", "region": "east"},
            {"customer_id": "L2", "updated_at": "2024-01-01T00:00:00Z"},
            {"customer_id": "L3", "updated_at": "2024-01-01T00:00:00Z"},
            {"customer_id": "L4", "updated_at": "2024-01-01T00:00:00Z"},
        ],
        orders=[
            # L1: 3000.99 then 2500.50 -> running 5501.49 reaches silver (5000) on the second
            # purchase, 2024-01-31 17:00 UTC = 2024-02-01 01:00 local -> tier_since 2024-02-01.
            order("o1", "L1", "2024-01-05T02:00:00Z", "3000.99"),
            order("o2", "L1", "2024-01-31T17:00:00Z", "2500.50"),
            # o3 was paid, then refunded: no points, no revenue (it would make L1 gold).
            order("o3", "L1", "2024-03-01T02:00:00Z", "20000.00"),
            order("o3", "L1", "2024-03-01T02:00:00Z", "20000.00", status="refunded",
                  updated="2024-03-05T00:00:00Z"),
            # L2: 15000.00 (silver on 2024-02-10) + 5000.00 = exactly 20000.00: gold reached on
            # 2024-03-10; a later 100.10 keeps tier_since.
            order("o4", "L2", "2024-02-10T02:00:00Z", "15000.00"),
            order("o5", "L2", "2024-03-10T04:00:00Z", "5000.00"),
            order("o6", "L2", "2024-04-01T04:00:00Z", "100.10"),
            # L4: 50000.00 at 2024-04-20 16:00 UTC = 2024-04-21 00:00 local: diamond.
            order("o7", "L4", "2024-04-20T16:00:00Z", "50000.00"),
            # X is not in the customers feed: no loyalty row.
            order("o8", "X", "2024-04-20T02:00:00Z", "9000.00"),
        ],
    )
    out = compute_care_marts(raw, SEEDS, TZ, core({"L1": "growth"}))["mart_loyalty"]
    assert list(out["customer_id"]) == ["L1", "L2", "L3", "L4"]
    l1 = row(out, customer_id="L1")
    assert l1["points"] == 3000 + 2500  # floor per purchase
    assert l1["lifetime_revenue"] == D("5501.49")
    assert (l1["loyalty_tier"], l1["tier_since"]) == ("silver", date(2024, 2, 1))
    assert (l1["next_tier"], l1["amount_to_next_tier"]) == ("gold", D("14498.51"))  # 20000 - 5501.49
    assert l1["benefits"] == "Birthday coupon and priority delivery"
    l2 = row(out, customer_id="L2")
    assert l2["points"] == 15000 + 5000 + 100 and l2["lifetime_revenue"] == D("20100.10")
    assert (l2["loyalty_tier"], l2["tier_since"]) == ("gold", date(2024, 3, 10))
    assert (l2["next_tier"], l2["amount_to_next_tier"]) == ("diamond", D("29899.90"))
    l3 = row(out, customer_id="L3")
    assert (l3["points"], l3["lifetime_revenue"], l3["loyalty_tier"]) == (0, D("0.00"), "none")
    assert l3["tier_since"] is None
    assert (l3["next_tier"], l3["amount_to_next_tier"]) == ("silver", D("5000.00"))
    l4 = row(out, customer_id="L4")
    assert (l4["points"], l4["loyalty_tier"], l4["tier_since"]) == (50000, "diamond", date(2024, 4, 21))
    assert l4["next_tier"] is None and l4["amount_to_next_tier"] is None


# ----------------------------------------------------------------------------------------------
# mart_complaint_sla / mart_complaint_sla_monthly
# ----------------------------------------------------------------------------------------------


def ticket(tid, opened, resp=None, resolved=None, ch="c1", cat="quality", sev="low", updated=None):
    return {"ticket_id": tid, "customer_id": "k" + tid, "channel_id": ch, "opened_at": opened,
            "first_response_at": resp, "resolved_at": resolved, "category": cat, "severity": sev,
            "updated_at": updated or resolved or resp or opened}


def test_complaint_sla_exact_limits_and_open_breaches():
    # D = 2024-03-10; the end of D is 2024-03-10 16:00 UTC.
    raw = make_raw(
        "2024-03-10",
        complaints=[
            # T1: first record unanswered, the latest answered at exactly 2 h, resolved at exactly 24 h.
            ticket("T1", "2024-03-01T00:00:00Z", cat="quality", sev="high"),
            ticket("T1", "2024-03-01T00:00:00Z", "2024-03-01T02:00:00Z", "2024-03-02T00:00:00Z",
                   cat="quality", sev="high"),
            # T2: one second over 2 h, one minute over 24 h.
            ticket("T2", "2024-03-02T00:00:00Z", "2024-03-02T02:00:01Z", "2024-03-03T00:01:00Z",
                   cat="delivery", sev="low"),
            # T3: open, unanswered, opened 3 h before the end of D, no channel.
            ticket("T3", "2024-03-10T13:00:00Z", ch=None, cat="service", sev="medium"),
            # T4: answered in 30 min, unresolved 30 h after opening.
            ticket("T4", "2024-03-09T10:00:00Z", "2024-03-09T10:30:00Z", cat="billing", sev="high"),
            # T5: opened exactly 2 h before the end of D: the limit has not passed.
            ticket("T5", "2024-03-10T14:00:00Z", ch="c2", cat="other", sev="low"),
            # T6: 2024-02-29 17:00 UTC is 2024-03-01 01:00 local: a March ticket. 60 min / 10 h.
            ticket("T6", "2024-02-29T17:00:00Z", "2024-02-29T18:00:00Z", "2024-03-01T03:00:00Z",
                   ch="c2", cat="quality", sev="low"),
            # T7: opened on 2024-03-11 local (after D): not in the marts.
            ticket("T7", "2024-03-11T01:00:00Z", ch="c2"),
        ],
    )
    marts = compute_care_marts(raw, SEEDS, TZ, core())
    t = marts["mart_complaint_sla"]
    assert list(t["ticket_id"]) == ["T1", "T2", "T3", "T4", "T5", "T6"]
    t1 = row(t, ticket_id="T1")
    assert (t1["response_minutes"], t1["resolution_hours"]) == (120.0, 24.0)
    assert t1["responded_within_2h"] is True and t1["resolved_within_24h"] is True
    assert t1["is_open"] is False and t1["response_breached"] is None and t1["resolution_breached"] is None
    t2 = row(t, ticket_id="T2")
    assert t2["response_minutes"] == pytest.approx(120 + 1 / 60)
    assert t2["resolution_hours"] == pytest.approx(24 + 1 / 60)
    assert t2["responded_within_2h"] is False and t2["resolved_within_24h"] is False
    t3 = row(t, ticket_id="T3")
    assert t3["response_minutes"] is None and t3["responded_within_2h"] is None
    assert t3["resolved_within_24h"] is None and t3["is_open"] is True
    assert t3["response_breached"] is True and t3["resolution_breached"] is False
    t4 = row(t, ticket_id="T4")
    assert t4["responded_within_2h"] is True and t4["resolved_within_24h"] is None
    assert t4["response_breached"] is False and t4["resolution_breached"] is True
    t5 = row(t, ticket_id="T5")
    assert t5["response_breached"] is False and t5["resolution_breached"] is False
    t6 = row(t, ticket_id="T6")
    assert t6["month"] == date(2024, 3, 1) and t6["opened_date"] == date(2024, 3, 1)
    assert (t6["response_minutes"], t6["resolution_hours"]) == (60.0, 10.0)

    m = marts["mart_complaint_sla_monthly"]
    assert len(m) == 3  # March: all, c1, c2 (T3 has no channel: only in the all row)
    a = row(m, grain="all", month=date(2024, 3, 1))
    assert a["channel_id"] is None and a["tickets"] == 6
    # response limit passed (opened + 2 h < 16:00 UTC Mar 10): T1 T2 T3 T4 T6; within: T1 T4 T6
    assert (a["response_due"], a["responded_within_2h"]) == (5, 3)
    assert a["responded_within_2h_share"] == pytest.approx(0.6)
    # resolution limit passed: T1 T2 T4 T6 (not T3, T5); within: T1 T6
    assert (a["resolution_due"], a["resolved_within_24h"]) == (4, 2)
    assert a["resolved_within_24h_share"] == pytest.approx(0.5)
    # response minutes [30, 60, 120, 120 + 1/60]: median (60 + 120) / 2; p90 at 0.9 * 3 = 2.7
    assert a["response_minutes_median"] == pytest.approx(90.0)
    assert a["response_minutes_p90"] == pytest.approx(120 + 0.7 / 60)
    assert (a["open_tickets"], a["open_response_breaches"], a["open_resolution_breaches"]) == (3, 1, 1)
    assert [a[f"category_{c}"] for c in ("quality", "delivery", "service", "billing", "other")] == [
        2, 1, 1, 1, 1]
    assert [a[f"severity_{s}"] for s in ("low", "medium", "high")] == [3, 1, 2]
    c1 = row(m, grain="channel", channel_id="c1")
    assert (c1["tickets"], c1["response_due"], c1["responded_within_2h"]) == (3, 3, 2)
    assert c1["responded_within_2h_share"] == pytest.approx(2 / 3)
    assert (c1["resolution_due"], c1["resolved_within_24h"]) == (3, 1)
    assert c1["response_minutes_median"] == pytest.approx(120.0)  # [30, 120, 120 + 1/60]
    assert c1["response_minutes_p90"] == pytest.approx(120 + 0.8 / 60)  # 0.9 * 2 = 1.8
    assert (c1["open_tickets"], c1["open_response_breaches"], c1["open_resolution_breaches"]) == (1, 0, 1)
    c2 = row(m, grain="channel", channel_id="c2")
    assert (c2["tickets"], c2["response_due"], c2["responded_within_2h_share"]) == (2, 1, 1.0)
    assert (c2["resolution_due"], c2["resolved_within_24h_share"]) == (1, 1.0)
    assert c2["response_minutes_median"] == 60.0 and c2["response_minutes_p90"] == 60.0


# ----------------------------------------------------------------------------------------------
# mart_interview_sample
# ----------------------------------------------------------------------------------------------


def test_interview_sample_ceil_per_tier_and_md5_order():
    growth = [f"g{i:02d}" for i in range(1, 13)]
    tiers = {**{g: "growth" for g in growth}, "p1": "potential", "p2": "potential", "p3": "potential",
             "s1": "strategic", "x1": "potential", "x2": "potential"}
    orders = [order(f"o{c}", c, "2024-01-20T02:00:00Z", "10.00")
              for c in [*growth[:11], "p1", "p2", "p3", "s1"]]
    orders += [
        order("og12", "g12", "2024-02-10T02:00:00Z", "10.00"),  # eligible from March on
        order("ox1", "x1", "2024-01-20T02:00:00Z", "10.00", status="cancelled"),  # never eligible
        # 2024-02-29 16:30 UTC is 2024-03-01 00:30 local: not before March's start
        order("ox2", "x2", "2024-02-29T16:30:00Z", "10.00"),
    ]
    out = compute_care_marts(make_raw("2024-03-15", orders=orders), SEEDS, TZ, core(tiers))[
        "mart_interview_sample"
    ]
    # First purchase in January -> first month with an eligible customer is February; D in March.
    assert sorted(set(out["month"])) == [date(2024, 2, 1), date(2024, 3, 1)]

    def sample(month, tier):
        s = out[(out["month"] == month) & (out["customer_tier"] == tier)].sort_values("sample_rank")
        return list(s["customer_id"]), set(s["eligible_in_tier"]), set(s["sample_size_in_tier"])

    feb, mar = date(2024, 2, 1), date(2024, 3, 1)
    # February: growth g01..g11 (11) -> ceil(1.1) = 2: md5('g04'||'2024-02-01') = 04a13e..,
    # md5('g09'||'2024-02-01') = 06504b.. are the two smallest (next g01 0a16ab..).
    assert sample(feb, "growth") == (["g04", "g09"], {11}, {2})
    # potential p1 06543c.., p3 1dda73.., p2 713923.. -> ceil(0.3) = 1: p1
    assert sample(feb, "potential") == (["p1"], {3}, {1})
    assert sample(feb, "strategic") == (["s1"], {1}, {1})
    # March: growth g01..g12 (12) -> ceil(1.2) = 2: g03 2efe69.., g02 342877.. (next g05 3946ae..)
    assert sample(mar, "growth") == (["g03", "g02"], {12}, {2})
    # potential p1 3dff1c.., p3 44dea8.., p2 9ecbcc.. (x2 bought on March 1 local: not eligible)
    assert sample(mar, "potential") == (["p1"], {3}, {1})
    assert sample(mar, "strategic") == (["s1"], {1}, {1})
    assert row(out, month=mar, customer_id="g03")["sample_key"] == "2efe69ee179efc2e3dff20ee13d92de2"
    assert len(out) == 8


# ----------------------------------------------------------------------------------------------
# mart_channel_conflict / fct_conflict_orders
# ----------------------------------------------------------------------------------------------


def test_channel_conflict_against_historical_authorized_regions():
    def ch(cid, ctype, regions, updated, part="2024-03-31"):
        return {"channel_id": cid, "channel_type": ctype, "authorized_regions": regions,
                "updated_at": updated, "_partition_date": part}

    raw = make_raw(
        "2024-03-31",
        channels=[
            ch("P1", "partner", "east; north", "2024-01-01T00:00:00Z", "2024-01-01"),
            ch("P1", "partner", "east; north", "2024-01-01T00:00:00Z", "2024-01-02"),  # same snapshot
            ch("P1", "partner", "east", "2024-02-01T00:00:00Z", "2024-02-01"),
            ch("P1", "partner", "east;north;west", "2024-03-20T00:00:00Z", "2024-03-20"),  # today
            ch("P2", "partner", None, "2024-01-01T00:00:00Z"),  # no authorized regions: not judged
            ch("D1", "direct", "east", "2024-01-01T00:00:00Z"),  # not a partner
        ],
        orders=[
            # before every P1 record: judged by the earliest one (east, north)
            order("o01", "u1", "2023-12-20T02:00:00Z", "5.00", ch="P1", ship_region="north"),
            order("o02", "u1", "2023-12-21T02:00:00Z", "7.00", ch="P1", ship_region="west"),  # conflict
            order("o03", "u1", "2024-01-15T02:00:00Z", "9.00", ch="P1", ship_region="north"),
            # from 2024-02-01 00:00 UTC only east is authorized (updated_at <= order_ts)
            order("o10", "u2", "2024-02-01T00:00:00Z", "1.00", ch="P1", ship_region="north"),  # conflict
            order("o04", "u2", "2024-02-15T02:00:00Z", "123.45", ch="P1", ship_region="north"),  # conflict
            order("o05", "u2", "2024-02-16T02:00:00Z", "8.00", ch="P1", ship_region="east"),
            order("o06", "u2", "2024-02-17T02:00:00Z", "99.00", ch="P1", ship_region="west",
                  status="refunded"),  # not a purchase
            order("o08", "u2", "2024-02-20T02:00:00Z", "3.00", ch="P1"),  # no ship_region: no conflict
            order("o09", "u3", "2024-02-25T02:00:00Z", "10.00", ch="P1", ship_region="west"),  # conflict
            # today's master authorizes west: not a conflict
            order("o07", "u3", "2024-03-25T02:00:00Z", "4.00", ch="P1", ship_region="west"),
            order("p01", "u4", "2024-02-25T02:00:00Z", "50.00", ch="P2", ship_region="west"),
            order("d01", "u4", "2024-02-25T02:00:00Z", "50.00", ch="D1", ship_region="west"),
        ],
    )
    marts = compute_care_marts(raw, SEEDS, TZ, core())
    m = marts["mart_channel_conflict"]
    assert list(m["channel_id"]) == ["P1"] * 4
    dec = row(m, month=date(2023, 12, 1))
    assert (dec["partner_orders"], dec["conflict_orders"], dec["conflict_revenue"]) == (2, 1, D("7.00"))
    assert dec["conflict_share"] == pytest.approx(0.5) and dec["unauthorized_regions"] == "west"
    jan = row(m, month=date(2024, 1, 1))
    assert (jan["partner_orders"], jan["conflict_orders"], jan["conflict_revenue"]) == (1, 0, D("0.00"))
    assert jan["conflict_share"] == 0.0 and jan["unauthorized_regions"] is None
    feb = row(m, month=date(2024, 2, 1))
    # o10 o04 o05 o08 o09 are partner orders; o10 o04 o09 conflict: 1.00 + 123.45 + 10.00
    assert (feb["partner_orders"], feb["conflict_orders"], feb["conflict_revenue"]) == (5, 3, D("134.45"))
    assert feb["conflict_share"] == pytest.approx(0.6) and feb["unauthorized_regions"] == "north;west"
    mar = row(m, month=date(2024, 3, 1))
    assert (mar["partner_orders"], mar["conflict_orders"]) == (1, 0)

    f = marts["fct_conflict_orders"]
    assert list(f["order_id"]) == ["o02", "o04", "o09", "o10"]
    assert list(f["authorized_regions"]) == ["east;north", "east", "east", "east"]
    assert list(f["amount"]) == [D("7.00"), D("123.45"), D("10.00"), D("1.00")]
    assert row(f, order_id="o02")["channel_record_updated_at"] == pd.Timestamp("2024-01-01T00:00:00Z")


# ----------------------------------------------------------------------------------------------
# mart_referral_vs_paid
# ----------------------------------------------------------------------------------------------


def test_referral_vs_paid_ratio_cac_and_zero_denominators():
    def lead(lid, ch, stage, ts):
        return {"lead_id": lid, "channel_id": ch, "stage": stage, "stage_ts": ts}

    leads = []
    # March: R1 (referral) 4 leads, 2 won; rl4's later won row is on P1 but its earliest row is R1
    for i in range(1, 5):
        leads.append(lead(f"rl{i}", "R1", "created", f"2024-03-0{i}T02:00:00Z"))
    leads.append(lead("rl1", "R1", "won", "2024-04-10T02:00:00Z"))
    leads.append(lead("rl4", "P1", "won", "2024-03-20T02:00:00Z"))
    # March: P1 (paid) 10 leads, 1 won; pl10 has no created row (cohort by its qualified row)
    for i in range(1, 10):
        leads.append(lead(f"pl{i}", "P1", "created", f"2024-03-1{i}T02:00:00Z"))
    leads.append(lead("pl10", "P1", "qualified", "2024-03-25T02:00:00Z"))
    leads.append(lead("pl1", "P1", "won", "2024-03-28T02:00:00Z"))
    # March: P2 has activity rows but zero spend: its 3 won leads are neither referral nor paid
    for i in range(1, 4):
        leads.append(lead(f"ql{i}", "P2", "created", f"2024-03-0{i}T02:00:00Z"))
        leads.append(lead(f"ql{i}", "P2", "won", f"2024-03-0{i}T05:00:00Z"))
    # April: P1 2 leads, none won -> paid_win_rate 0 -> ratio NULL; no referral leads -> NULL rate
    leads.append(lead("pa1", "P1", "created", "2024-04-02T02:00:00Z"))
    leads.append(lead("pa2", "P1", "created", "2024-04-03T02:00:00Z"))

    raw = make_raw(
        "2024-04-30",
        channels=[
            {"channel_id": "R1", "channel_type": "direct", "sub_type": "referral",
             "updated_at": "2024-01-01T00:00:00Z"},
            {"channel_id": "P1", "channel_type": "partner", "sub_type": "head_distributor",
             "updated_at": "2024-01-01T00:00:00Z"},
            {"channel_id": "P2", "channel_type": "platform", "sub_type": "ecommerce",
             "updated_at": "2024-01-01T00:00:00Z"},
        ],
        channel_activity=[
            {"activity_date": "2024-03-05", "channel_id": "P1", "spend": "600.00"},
            {"activity_date": "2024-03-20", "channel_id": "P1", "spend": "400.00"},
            {"activity_date": "2024-03-05", "channel_id": "P2", "spend": "0.00"},
            {"activity_date": "2024-03-05", "channel_id": "R1", "spend": "50.00"},  # referral: not paid
            {"activity_date": "2024-04-05", "channel_id": "P1", "spend": "300.00"},
        ],
        leads=leads,
        orders=[
            order("n1", "c1", "2024-03-10T02:00:00Z", "10.00", ch="P1"),
            order("n2", "c2", "2024-03-11T02:00:00Z", "10.00", ch="P1"),
            order("n3", "c3", "2024-03-12T02:00:00Z", "10.00", ch="P1"),
            order("n4", "c4", "2024-03-12T02:00:00Z", "10.00", ch="R1", is_referral=True),
            order("n5", "c5", "2024-03-13T02:00:00Z", "10.00", ch="P2", is_referral=True),
            order("n6", "c6", "2024-02-13T02:00:00Z", "10.00", ch="P1"),  # new in February
            order("n7", "c6", "2024-03-13T02:00:00Z", "10.00", ch="P1"),  # not new in March
            order("n8", "c4", "2024-04-13T02:00:00Z", "10.00", ch="P1"),  # not new in April
        ],
    )
    out = compute_care_marts(raw, SEEDS, TZ, core())["mart_referral_vs_paid"]
    assert list(out["month"]) == [date(2024, 2, 1), date(2024, 3, 1), date(2024, 4, 1)]
    feb = row(out, month=date(2024, 2, 1))
    assert (feb["referral_leads"], feb["paid_leads"], feb["paid_channels"]) == (0, 0, 0)
    assert feb["referral_win_rate"] is None and feb["paid_win_rate"] is None
    assert feb["referral_to_paid_ratio"] is None
    assert (feb["paid_spend"], feb["paid_new_customers"], feb["paid_cac"]) == (D("0.00"), 0, None)
    mar = row(out, month=date(2024, 3, 1))
    assert (mar["referral_leads"], mar["referral_won"]) == (4, 2)
    assert (mar["paid_leads"], mar["paid_won"], mar["paid_channels"]) == (10, 1, 1)
    assert mar["referral_win_rate"] == pytest.approx(0.5) and mar["paid_win_rate"] == pytest.approx(0.1)
    assert mar["referral_to_paid_ratio"] == pytest.approx(5.0)
    assert mar["referral_new_customers"] == 2  # c4 and c5: first purchase flagged is_referral
    # paid spend 1000.00 over the 3 new customers of P1 (c1 c2 c3) = 333.333.. -> 333.33
    assert (mar["paid_spend"], mar["paid_new_customers"], mar["paid_cac"]) == (D("1000.00"), 3, D("333.33"))
    apr = row(out, month=date(2024, 4, 1))
    assert (apr["referral_leads"], apr["paid_leads"], apr["paid_won"]) == (0, 2, 0)
    assert apr["referral_win_rate"] is None and apr["paid_win_rate"] == 0.0
    assert apr["referral_to_paid_ratio"] is None
    assert (apr["paid_spend"], apr["paid_new_customers"], apr["paid_cac"]) == (D("300.00"), 0, None)


# ----------------------------------------------------------------------------------------------
# mart_sales_kpis
# ----------------------------------------------------------------------------------------------


def kpi_marts():
    def lead(lid, ch, created, won):
        return [{"lead_id": lid, "channel_id": ch, "stage": "created", "stage_ts": created},
                {"lead_id": lid, "channel_id": ch, "stage": "won", "stage_ts": won}]

    raw = make_raw(
        "2024-06-30",
        orders=[
            order("z1", "cZ", "2023-05-10T02:00:00Z", "40.00"),
            order("a1", "cA", "2024-01-10T02:00:00Z", "100.00"),
            order("a2", "cA", "2024-04-05T02:00:00Z", "10.00"),
            order("a3", "cA", "2024-04-06T02:00:00Z", "10.01"),
            order("a4", "cA", "2024-06-06T02:00:00Z", "200.00", status="cancelled"),
            order("b1", "cB", "2024-02-10T02:00:00Z", "100.00"),
            order("b2", "cB", "2024-05-10T02:00:00Z", "44.00"),
            order("c1", "cC", "2024-03-10T02:00:00Z", "100.00"),
            order("c2", "cC", "2024-06-10T02:00:00Z", "52.59"),
            order("d1", "cD", "2024-01-20T02:00:00Z", "100.00"),
            order("e1", "cE", "2024-06-20T02:00:00Z", "50.01", ch="K2"),
        ],
        leads=[
            *lead("L1", "K1", "2024-06-01T02:00:00Z", "2024-06-11T02:00:00Z"),  # 10 days
            *lead("L2", "K1", "2024-06-05T02:00:00Z", "2024-06-25T02:00:00Z"),  # 20 days
            *lead("L3", "K1", "2024-06-02T02:00:00Z", "2024-06-30T02:00:00Z"),  # 28 days
            *lead("L4", "K2", "2024-05-01T02:00:00Z", "2024-06-15T02:00:00Z"),  # 45 days, May cohort
        ],
        sales_targets=[
            {"month": "2024-06", "channel_id": "K1", "revenue_target": "114.00", "new_customers_target": 1},
        ],
    )
    nps = [
        {"grain": "all", "month": date(2024, 3, 1), "nps": 30.0, "csat": 0.8},
        {"grain": "all", "month": date(2024, 5, 1), "nps": 20.0, "csat": 0.85},
        {"grain": "all", "month": date(2024, 6, 1), "nps": 45.5, "csat": 0.9},
        {"grain": "channel", "channel_id": "K1", "month": date(2024, 3, 1), "nps": -5.0, "csat": 0.5},
        {"grain": "channel", "channel_id": "K1", "month": date(2024, 6, 1), "nps": 10.0, "csat": 0.95},
        {"grain": "tier", "customer_tier": "growth", "month": date(2024, 6, 1), "nps": 99.0, "csat": 0.1},
    ]
    return compute_care_marts(raw, SEEDS, TZ, core(nps=nps))["mart_sales_kpis"]


def test_sales_kpis_retention_repeat_attainment_and_scorecard():
    out = kpi_marts()
    # all-channels rows from May 2023 (first purchase) to June 2024, plus K1 June 2024 (its target)
    assert len(out) == 14 + 1
    jun = row(out, grain="all", month=date(2024, 6, 1))
    assert jun["channel_id"] is None
    # revenue 52.59 + 50.01 = 102.60 against 114.00 (the sum of the channels' targets): exactly 90 %
    # (as doubles 102.6 / 114.0 = 0.8999999999999999, so the flag is computed exactly)
    assert (jun["revenue"], jun["revenue_target"]) == (D("102.60"), D("114.00"))
    assert jun["attainment"] == pytest.approx(0.9) and jun["attainment_ok"] is True
    # cE's first purchase is in June; the target is K1's 1
    assert (jun["new_customers"], jun["new_customers_target"], jun["new_customers_ok"]) == (1, 1, True)
    # buyers of Jan..Mar 2024: cA cB cC cD; again in Apr..Jun: cA cB cC -> 3 / 4
    assert (jun["retention_base"], jun["retained"]) == (4, 3)
    assert jun["retention_rate"] == 0.75 and jun["retention_ok"] is False
    # up to June 30: cZ cA cB cC cD cE bought; cA cB cC bought twice or more -> 3 / 6
    assert (jun["customers_to_date"], jun["repeat_customers_to_date"]) == (6, 3)
    assert jun["repeat_purchase_rate"] == 0.5 and jun["repeat_purchase_ok"] is False
    # won leads created in June: 10, 20, 28 days -> median 20
    assert (jun["won_leads"], jun["cycle_days_median"], jun["cycle_days_ok"]) == (3, 20.0, True)
    # AOV 102.60 / 2 = 51.30; no purchase in June 2023 -> growth NULL, flag NULL
    assert (jun["orders"], jun["avg_order_value"]) == (2, D("51.30"))
    assert jun["avg_order_value_year_before"] is None
    assert jun["aov_growth_yoy"] is None and jun["aov_growth_ok"] is None
    assert (jun["csat"], jun["csat_ok"], jun["nps"]) == (0.9, True, 45.5)
    assert jun["nps_change_qoq"] == pytest.approx(15.5)  # 45.5 - 30.0 (March)
    assert jun["kpis_met"] == 4  # attainment, new customers, cycle days, csat

    may = row(out, grain="all", month=date(2024, 5, 1))
    assert may["revenue_target"] is None and may["attainment"] is None and may["attainment_ok"] is None
    # no target row in May: the seed default of 50 new customers; none new in May
    assert (may["new_customers"], may["new_customers_target"], may["new_customers_ok"]) == (0, 50, False)
    # AOV 44.00 against 40.00 in May 2023: +10 % exactly -> ok
    assert (may["avg_order_value"], may["avg_order_value_year_before"]) == (D("44.00"), D("40.00"))
    assert may["aov_growth_yoy"] == pytest.approx(0.1) and may["aov_growth_ok"] is True
    assert (may["won_leads"], may["cycle_days_median"], may["cycle_days_ok"]) == (1, 45.0, False)
    assert may["csat_ok"] is False and may["nps_change_qoq"] is None  # no February NPS row
    # buyers of Dec 2023..Feb 2024: cA cB cD; again in Mar..May: cA cB -> 2 / 3
    assert (may["retention_base"], may["retained"]) == (3, 2)
    assert may["kpis_met"] == 1  # aov growth only

    apr = row(out, grain="all", month=date(2024, 4, 1))
    assert (apr["revenue"], apr["orders"], apr["avg_order_value"]) == (D("20.01"), 2, D("10.01"))  # 10.005

    early = row(out, grain="all", month=date(2023, 6, 1))
    assert early["retention_base"] == 0 and early["retention_rate"] is None
    assert early["retention_ok"] is None and early["avg_order_value"] is None
    assert (early["customers_to_date"], early["repeat_purchase_rate"]) == (1, 0.0)

    k1 = row(out, grain="channel", channel_id="K1")
    assert k1["month"] == date(2024, 6, 1)
    assert (k1["revenue"], k1["revenue_target"], k1["attainment_ok"]) == (D("52.59"), D("114.00"), False)
    assert k1["attainment"] == pytest.approx(52.59 / 114)
    assert (k1["new_customers"], k1["new_customers_target"], k1["new_customers_ok"]) == (0, 1, False)
    assert (k1["retention_base"], k1["retained"], k1["retention_ok"]) == (4, 3, False)
    # through K1 up to June: cZ cA cB cC cD (cE bought through K2); repeat cA cB cC -> 3 / 5
    assert (k1["customers_to_date"], k1["repeat_customers_to_date"]) == (5, 3)
    assert k1["repeat_purchase_rate"] == pytest.approx(0.6)
    assert (k1["won_leads"], k1["cycle_days_median"]) == (3, 20.0)
    assert (k1["avg_order_value"], k1["aov_growth_yoy"]) == (D("52.59"), None)
    # csat / nps of K1's channel rows in mart_nps: 10 - (-5) = 15
    assert (k1["csat"], k1["csat_ok"], k1["nps"], k1["nps_change_qoq"]) == (0.95, True, 10.0, 15.0)
    assert k1["kpis_met"] == 2  # cycle days and csat


# ----------------------------------------------------------------------------------------------
# with core=None the core marts are computed by tests/oracle/core_marts.py
# ----------------------------------------------------------------------------------------------


def test_core_marts_are_computed_when_not_given():
    core_marts = pytest.importorskip("tests.oracle.core_marts")
    raw = churn_raw("2024-05-15")
    churn = compute_care_marts(raw, SEEDS, TZ)["mart_churn_warning"]
    rfm = core_marts.compute_core_marts(raw, SEEDS, TZ)["mart_customer_rfm"].set_index("customer_id")
    for _, r in churn.iterrows():
        assert r["customer_tier"] == rfm.loc[r["customer_id"], "customer_tier"]
        assert r["rfm_segment"] == rfm.loc[r["customer_id"], "rfm_segment"]
    # cA's monetary: 60.00 + 40.00 + 80.00 + 64.00 (the refunded 70.00 is not revenue)
    assert row(churn, customer_id="cA")["monetary"] == D("244.00")


def test_interview_sample_size_is_exact_and_read_from_the_seed(tmp_path):
    # The share comes from seeds/care_thresholds.csv: set it to 0.07 in a copy of the seeds.
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for f in SEEDS.glob("*.csv"):
        (seeds / f.name).write_text(f.read_text())
    care = (seeds / "care_thresholds.csv").read_text()
    (seeds / "care_thresholds.csv").write_text(
        care.replace("interview_sample_share,0.1,", "interview_sample_share,0.07,")
    )
    ids = [f"c{i:03d}" for i in range(100)]
    raw = make_raw("2024-02-10", orders=[order(f"o{c}", c, "2024-01-05T02:00:00Z", "1.00") for c in ids])
    out = compute_care_marts(raw, seeds, TZ, core({c: "growth" for c in ids}))["mart_interview_sample"]
    # ceil(0.07 * 100) = 7 exactly (as doubles 0.07 * 100 = 7.000000000000001 would give 8)
    assert len(out) == 7 and set(out["sample_size_in_tier"]) == {7} and set(out["eligible_in_tier"]) == {100}
    assert list(out["sample_rank"]) == [1, 2, 3, 4, 5, 6, 7]
    assert list(out["sample_key"]) == sorted(out["sample_key"])
