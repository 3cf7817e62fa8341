"""The core marts computed in plain pandas / Python from the raw tables (the independent check).

Written only from the specification (its common rules and the marts) and docs/mart_rules.md,
plus the "Oracle notes" at the end of that page for the readings made here. The thresholds come from
the seed CSVs (seeds/mart_thresholds.csv, rfm_segment_map.csv, channel_type_benchmarks.csv).

Arithmetic: money is decimal.Decimal; every division, share and threshold is computed exactly with
fractions.Fraction (seed numbers are read from their text, so 0.3 is exactly 3/10). Money results
with a division are rounded once to the cent, halves away from zero; rates are the exact ratio
converted to float at the end.

Output conventions (each mart is a DataFrame, one column per field of the issue):

==========================  =============================  =================
kind of column              dtype                          NULL
==========================  =============================  =================
money                       object of decimal.Decimal      None
date / month                object of datetime.date        None
text (ids, segment, tier)   object of str                  None
counts, days, scores        Int64 (pandas nullable)        pd.NA
rates, nps, percentiles,    float64                        NaN
roi, avg_visit_seconds
flags                       boolean (pandas nullable)      pd.NA
==========================  =============================  =================

Accepted input (raw frames as raw_io.load_raw returns them, or hand-made): timestamps as tz-aware
values or ISO strings (naive ones are read as UTC), dates as datetime.date / Timestamp / ISO
strings, money as Decimal / int / str (a float is refused: it cannot be exact).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

from dagster_project.ingest.feeds import FEEDS, LINEAGE_COLUMNS

# Funnel order of the lead stages; `lost` is not a step of the funnel but sorts last on ties.
STAGE_ORDER = {"created": 0, "qualified": 1, "proposal": 2, "won": 3, "lost": 4}
FUNNEL_STEPS = ("created", "qualified", "proposal", "won")
TIERS = ("strategic", "growth", "potential")

RFM_COLUMNS: list[tuple[str, str]] = [
    ("customer_id", "str"),
    ("recency_days", "int"),
    ("frequency", "int"),
    ("monetary", "money"),
    ("avg_order_value", "money"),
    ("first_purchase_date", "date"),
    ("last_purchase_date", "date"),
    ("repeat_frequency", "int"),
    ("recency_btyd", "int"),
    ("t_days", "int"),
    ("repeat_monetary_avg", "money"),
    ("r_score", "int"),
    ("f_score", "int"),
    ("m_score", "int"),
    ("fm_score", "int"),
    ("rfm_segment", "str"),
    ("customer_tier", "str"),
]
TIERS_COLUMNS = [("customer_id", "str"), ("customer_tier", "str")]
HISTORY_COLUMNS = [("month", "date")] + RFM_COLUMNS
FUNNEL_COLUMNS: list[tuple[str, str]] = [
    ("channel_id", "str"),
    ("month", "date"),
    ("visits", "int"),
    ("avg_visit_seconds", "float"),
    ("inquiries", "int"),
    ("carts", "int"),
    ("orders", "int"),
    ("buyers", "int"),
    ("repeat_buyers", "int"),
    ("inquiry_rate", "float"),
    ("cart_rate", "float"),
    ("close_rate", "float"),
    ("visit_to_order_rate", "float"),
    ("repeat_rate", "float"),
    ("leads_created", "int"),
    ("leads_qualified", "int"),
    ("leads_proposal", "int"),
    ("leads_won", "int"),
    ("qualified_rate", "float"),
    ("proposal_rate", "float"),
    ("won_rate", "float"),
    ("win_rate", "float"),
    ("cycle_days_median", "float"),
    ("cycle_days_p90", "float"),
    ("cycle_within_target", "bool"),
    ("below_benchmark", "bool"),
]
NPS_COLUMNS: list[tuple[str, str]] = [
    ("grain", "str"),
    ("channel_id", "str"),
    ("customer_tier", "str"),
    ("month", "date"),
    ("responses", "int"),
    ("promoters", "int"),
    ("passives", "int"),
    ("detractors", "int"),
    ("nps", "float"),
    ("nps_moe_95", "float"),
    ("low_sample", "bool"),
    ("csat", "float"),
    ("nps_change", "float"),
]
HEALTH_COLUMNS: list[tuple[str, str]] = [
    ("channel_id", "str"),
    ("month", "date"),
    ("spend", "money"),
    ("new_customers", "int"),
    ("cac", "money"),
    ("revenue", "money"),
    ("roi", "float"),
    ("conversion", "float"),
    ("clv", "money"),
    ("cac_over_30pct_clv", "bool"),
    ("cac_trigger_streak", "int"),
    ("optimisation_required", "bool"),
    ("conversion_below_benchmark", "bool"),
    ("roi_top_20pct", "bool"),
]

# Key columns of each mart (for compare.assert_frames_match).
MART_KEYS: dict[str, list[str]] = {
    "mart_customer_rfm": ["customer_id"],
    "mart_customer_tiers": ["customer_id"],
    "mart_customer_rfm_history": ["customer_id", "month"],
    "mart_channel_funnel": ["channel_id", "month"],
    "mart_nps": ["grain", "channel_id", "customer_tier", "month"],
    "mart_channel_health": ["channel_id", "month"],
}
MART_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "mart_customer_rfm": RFM_COLUMNS,
    "mart_customer_tiers": TIERS_COLUMNS,
    "mart_customer_rfm_history": HISTORY_COLUMNS,
    "mart_channel_funnel": FUNNEL_COLUMNS,
    "mart_nps": NPS_COLUMNS,
    "mart_channel_health": HEALTH_COLUMNS,
}
# Money columns of each mart (compared exactly as Decimal).
MART_MONEY: dict[str, list[str]] = {
    name: [c for c, kind in cols if kind == "money"] for name, cols in MART_COLUMNS.items()
}


# --------------------------------------------------------------------------------------------
# Seeds
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeds:
    thresholds: dict[str, Fraction]
    segment_map: dict[tuple[int, int], str]
    # channel_type -> (visit_to_order_rate benchmark, win_rate benchmark)
    benchmarks: dict[str, tuple[Fraction, Fraction]]

    def t(self, name: str) -> Fraction:
        return self.thresholds[name]


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [
            {k.strip(): (v.strip() if v is not None else v) for k, v in row.items()}
            for row in csv.DictReader(fh)
        ]


def load_seeds(seeds_dir: Path) -> Seeds:
    seeds_dir = Path(seeds_dir)
    thresholds = {
        r["threshold_name"]: Fraction(r["threshold_value"])
        for r in _read_csv(seeds_dir / "mart_thresholds.csv")
    }
    segment_map = {
        (int(r["r_score"]), int(r["fm_score"])): r["rfm_segment"]
        for r in _read_csv(seeds_dir / "rfm_segment_map.csv")
    }
    benchmarks = {
        r["channel_type"]: (Fraction(r["visit_to_order_rate"]), Fraction(r["win_rate"]))
        for r in _read_csv(seeds_dir / "channel_type_benchmarks.csv")
    }
    return Seeds(thresholds, segment_map, benchmarks)


# --------------------------------------------------------------------------------------------
# Small exact helpers
# --------------------------------------------------------------------------------------------


def _is_null(v) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _as_date(v) -> dt.date | None:
    if _is_null(v):
        return None
    if isinstance(v, pd.Timestamp | dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    return pd.Timestamp(v).date()


def _as_decimal(v) -> Decimal | None:
    if _is_null(v):
        return None
    if isinstance(v, Decimal):
        return v
    if isinstance(v, float):
        raise TypeError(f"money value {v!r} is a float; money must be Decimal, int or str")
    return Decimal(str(v))


def _as_int(v) -> int | None:
    return None if _is_null(v) else int(v)


def _as_float(v) -> float | None:
    return None if _is_null(v) else float(v)


def round_cents(q: Fraction | Decimal | int) -> Decimal:
    """Round an exact number to the cent, halves away from zero (ROUND_HALF_UP in decimal terms)."""
    cents = Fraction(q) * 100
    sign = -1 if cents < 0 else 1
    a = abs(cents)
    whole, rest = divmod(a.numerator, a.denominator)
    if Fraction(rest, a.denominator) >= Fraction(1, 2):
        whole += 1
    return Decimal(sign * whole).scaleb(-2)


def ratio(num, den) -> Fraction | None:
    """Exact num / den; None when den is 0 (a ratio with a zero denominator is NULL)."""
    if num is None or den is None or den == 0:
        return None
    return Fraction(num) / Fraction(den)


def _f(q: Fraction | None) -> float | None:
    return None if q is None else float(q)


def sql_lt(a, b) -> bool | None:
    """a < b with SQL NULL semantics."""
    if a is None or b is None:
        return None
    return a < b


def sql_or(*values: bool | None) -> bool | None:
    """SQL three-valued OR."""
    if any(v is True for v in values):
        return True
    if any(v is None for v in values):
        return None
    return False


def month_start(d: dt.date) -> dt.date:
    return d.replace(day=1)


def month_end(m: dt.date) -> dt.date:
    nxt = (m.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return nxt - dt.timedelta(days=1)


def prev_month(m: dt.date) -> dt.date:
    return month_start(m.replace(day=1) - dt.timedelta(days=1))


def next_month(m: dt.date) -> dt.date:
    return month_end(m) + dt.timedelta(days=1)


def cume_dist_scores(values: list, descending: bool = False) -> list[int]:
    """ceil(5 * cume_dist()) over the rows ordered by the value (descending when asked).

    cume_dist of a row = share of rows whose value comes before it or ties with it in the sort
    order, so equal values always share a score. Integer arithmetic: ceil(5k / n).
    """
    n = len(values)
    ordered = sorted(values)
    out = []
    for v in values:
        k = n - bisect_left(ordered, v) if descending else bisect_right(ordered, v)
        out.append(-(-5 * k // n))
    return out


def percentile_cont(values: list[int], p: Fraction) -> float | None:
    """Continuous percentile with linear interpolation between closest ranks (SQL percentile_cont)."""
    if not values:
        return None
    xs = sorted(values)
    h = p * (len(xs) - 1)
    lo = math.floor(h)
    hi = math.ceil(h)
    return float(xs[lo] + (h - lo) * (xs[hi] - xs[lo]))


def _typed_frame(rows: list[dict], columns: list[tuple[str, str]]) -> pd.DataFrame:
    """Build a mart frame with the NULL / dtype conventions of the module docstring."""
    data = {}
    for name, kind in columns:
        vals = [r.get(name) for r in rows]
        if kind == "money":
            data[name] = pd.Series([_as_decimal(v) for v in vals], dtype=object)
        elif kind == "date":
            data[name] = pd.Series([_as_date(v) for v in vals], dtype=object)
        elif kind == "str":
            data[name] = pd.Series([None if _is_null(v) else str(v) for v in vals], dtype=object)
        elif kind == "int":
            data[name] = pd.Series([_as_int(v) for v in vals], dtype="Int64")
        elif kind == "float":
            data[name] = pd.Series([_as_float(v) for v in vals], dtype="float64")
        elif kind == "bool":
            data[name] = pd.Series([None if _is_null(v) else bool(v) for v in vals], dtype="boolean")
        else:  # pragma: no cover
            raise ValueError(kind)
    return pd.DataFrame(data, columns=[c for c, _ in columns])


# --------------------------------------------------------------------------------------------
# Raw inputs
# --------------------------------------------------------------------------------------------


def _feed(raw: dict[str, pd.DataFrame], name: str) -> pd.DataFrame:
    """The raw frame of a feed with every contract and lineage column (empty when absent)."""
    cols = list(FEEDS[name].column_names) + [c for c, _ in LINEAGE_COLUMNS]
    df = raw.get(name)
    if df is None:
        df = pd.DataFrame({c: pd.Series([], dtype=object) for c in cols})
    df = df.copy()
    for c in cols:
        if c not in df.columns:
            df[c] = None
    feed = FEEDS[name]
    for col in feed.columns:
        if col.kind == "timestamp":
            df[col.name] = pd.to_datetime(df[col.name], utc=True)
        elif col.kind in ("date", "month"):
            df[col.name] = pd.Series([_as_date(v) for v in df[col.name]], index=df.index, dtype=object)
        elif col.kind == "money":
            df[col.name] = pd.Series([_as_decimal(v) for v in df[col.name]], index=df.index, dtype=object)
        elif col.kind in ("text", "enum"):
            df[col.name] = pd.Series(
                [None if _is_null(v) else str(v) for v in df[col.name]], index=df.index, dtype=object
            )
    df["_partition_date"] = pd.Series(
        [_as_date(v) for v in df["_partition_date"]], index=df.index, dtype=object
    )
    df["_source_file"] = pd.Series(
        [None if _is_null(v) else str(v) for v in df["_source_file"]], index=df.index, dtype=object
    )
    return df


def as_of_date(raw: dict[str, pd.DataFrame]) -> dt.date:
    """D = the latest partition_date of raw.ingest_log (rows without a file count too)."""
    log = raw["ingest_log"]
    dates = [d for d in (_as_date(v) for v in log["partition_date"]) if d is not None]
    if not dates:
        raise ValueError("raw.ingest_log has no partition_date: D is undefined")
    return max(dates)


def latest_records(df: pd.DataFrame, key: list[str], has_updated_at: bool) -> pd.DataFrame:
    """The contract's latest record per key: updated_at desc (when the feed has it), then
    _partition_date desc, _source_file desc, _line_number desc; the first row wins."""
    order = (["updated_at"] if has_updated_at else []) + ["_partition_date", "_source_file", "_line_number"]
    ordered = df.sort_values(order, ascending=False, na_position="last", kind="mergesort")
    return ordered.drop_duplicates(subset=key, keep="first")


def _rows(df: pd.DataFrame, keep) -> pd.DataFrame:
    """The rows of df where `keep` (an iterable of bools, one per row) is true."""
    return df.loc[np.fromiter((bool(k) for k in keep), dtype=bool, count=len(df))]


def _arrived(df: pd.DataFrame, by: dt.date) -> pd.DataFrame:
    """Rows that had arrived by `by` (their _partition_date is on or before it)."""
    return _rows(df, (p is not None and p <= by for p in df["_partition_date"]))


def _local_dates(ts: pd.Series, tz: str) -> pd.Series:
    return pd.Series(
        [None if _is_null(t) else t.date() for t in ts.dt.tz_convert(tz)], index=ts.index, dtype=object
    )


@dataclass
class _Inputs:
    D: dt.date
    tz: str
    seeds: Seeds
    orders: pd.DataFrame  # every raw order row, with order_date (local)
    customers: pd.DataFrame
    channels: pd.DataFrame
    activity: pd.DataFrame
    leads: pd.DataFrame  # with stage_date (local)
    surveys: pd.DataFrame  # with submitted_date (local)


def _inputs(raw: dict[str, pd.DataFrame], seeds_dir: Path, tz: str) -> _Inputs:
    orders = _feed(raw, "orders")
    orders["order_date"] = _local_dates(orders["order_ts"], tz)
    leads = _feed(raw, "leads")
    leads["stage_date"] = _local_dates(leads["stage_ts"], tz)
    surveys = _feed(raw, "surveys")
    surveys["submitted_date"] = _local_dates(surveys["submitted_at"], tz)
    return _Inputs(
        D=as_of_date(raw),
        tz=tz,
        seeds=load_seeds(seeds_dir),
        orders=orders,
        customers=_feed(raw, "customers"),
        channels=_feed(raw, "channels"),
        activity=_feed(raw, "channel_activity"),
        leads=leads,
        surveys=surveys,
    )


def purchases(orders: pd.DataFrame, arrived_by: dt.date, as_of: dt.date) -> pd.DataFrame:
    """Orders whose latest record (among rows arrived by `arrived_by`) is `paid`, dated <= as_of."""
    latest = latest_records(_arrived(orders, arrived_by), ["order_id"], has_updated_at=True)
    keep = (
        (s == "paid") and (d is not None and d <= as_of)
        for s, d in zip(latest["status"], latest["order_date"], strict=True)
    )
    p = _rows(latest, keep).copy()
    p["month"] = [month_start(d) for d in p["order_date"]]
    return p.sort_values(["order_ts", "order_id"], kind="mergesort").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# mart_customer_rfm / mart_customer_tiers / mart_customer_rfm_history
# --------------------------------------------------------------------------------------------


def _rfm_rows(p: pd.DataFrame, D: dt.date, seeds: Seeds) -> list[dict]:
    """One dict per customer with a purchase in p (the purchases as of D)."""
    window_start = D - dt.timedelta(days=364)
    # customer_id -> {purchase date -> revenue of that day}, and purchase count
    day_revenue: dict[str, dict[dt.date, Decimal]] = {}
    frequency: dict[str, int] = {}
    for c, d, a in zip(p["customer_id"], p["order_date"], p["amount"], strict=True):
        days = day_revenue.setdefault(c, {})
        days[d] = days.get(d, Decimal("0.00")) + a
        frequency[c] = frequency.get(c, 0) + 1
    rows: list[dict] = []
    for customer_id in sorted(day_revenue):
        days = day_revenue[customer_id]
        first, last = min(days), max(days)
        monetary = sum(days.values(), Decimal("0.00"))
        repeat_days = [d for d in days if d != first]
        if repeat_days:
            repeat_total = sum((days[d] for d in repeat_days), Decimal("0.00"))
            repeat_avg = round_cents(Fraction(repeat_total) / len(repeat_days))
        else:
            repeat_avg = Decimal("0.00")
        revenue_365 = sum((a for d, a in days.items() if window_start <= d <= D), Decimal("0.00"))
        rows.append(
            {
                "customer_id": customer_id,
                "recency_days": (D - last).days,
                "frequency": frequency[customer_id],
                "monetary": monetary,
                "avg_order_value": round_cents(Fraction(monetary) / frequency[customer_id]),
                "first_purchase_date": first,
                "last_purchase_date": last,
                "repeat_frequency": len(days) - 1,
                "recency_btyd": (last - first).days,
                "t_days": (D - first).days,
                "repeat_monetary_avg": repeat_avg,
                "_revenue_365": revenue_365,
            }
        )
    if not rows:
        return rows
    r = cume_dist_scores([x["recency_days"] for x in rows], descending=True)
    f = cume_dist_scores([x["frequency"] for x in rows])
    m = cume_dist_scores([x["monetary"] for x in rows])
    strategic_min = seeds.t("strategic_revenue_365d")
    growth_min_f = seeds.t("growth_min_f_score")
    for x, rs, fs, ms in zip(rows, r, f, m, strict=True):
        x["r_score"], x["f_score"], x["m_score"] = rs, fs, ms
        x["fm_score"] = -(-(fs + ms) // 2)
        x["rfm_segment"] = seeds.segment_map[(rs, x["fm_score"])]
        if Fraction(x["_revenue_365"]) >= strategic_min:
            x["customer_tier"] = "strategic"
        elif fs >= growth_min_f:
            x["customer_tier"] = "growth"
        else:
            x["customer_tier"] = "potential"
    return rows


def customer_rfm(inp: _Inputs) -> pd.DataFrame:
    p = purchases(inp.orders, arrived_by=inp.D, as_of=inp.D)
    return _typed_frame(_rfm_rows(p, inp.D, inp.seeds), RFM_COLUMNS)


def customer_tiers(inp: _Inputs, rfm: pd.DataFrame) -> pd.DataFrame:
    known = sorted({c for c in _arrived(inp.customers, inp.D)["customer_id"] if c is not None})
    tier_of = dict(zip(rfm["customer_id"], rfm["customer_tier"], strict=True))
    rows = [{"customer_id": c, "customer_tier": tier_of.get(c, "potential")} for c in known]
    return _typed_frame(rows, TIERS_COLUMNS)


def customer_rfm_history(inp: _Inputs) -> pd.DataFrame:
    dates = [d for d in inp.orders["order_date"] if d is not None and d <= inp.D]
    rows: list[dict] = []
    if dates:
        m = month_start(min(dates))
        while month_end(m) <= inp.D:
            me = month_end(m)
            block = _rfm_rows(purchases(inp.orders, arrived_by=me, as_of=me), me, inp.seeds)
            for x in block:
                x["month"] = m
            rows += block
            m = next_month(m)
    return _typed_frame(rows, HISTORY_COLUMNS)


# --------------------------------------------------------------------------------------------
# mart_channel_funnel / mart_channel_health
# --------------------------------------------------------------------------------------------


def _activity_by_channel_month(inp: _Inputs) -> dict[tuple[str, dt.date], dict]:
    a = latest_records(_arrived(inp.activity, inp.D), ["activity_date", "channel_id"], has_updated_at=False)
    a = _rows(a, (d is not None and d <= inp.D for d in a["activity_date"])).copy()
    a["month"] = [month_start(d) for d in a["activity_date"]]
    out: dict[tuple[str, dt.date], dict] = {}
    for (channel_id, m), g in a.groupby(["channel_id", "month"], sort=True):
        visits = [_as_int(v) for v in g["visits"]]
        secs = [_as_float(v) for v in g["avg_visit_seconds"]]
        both = [(v, s) for v, s in zip(visits, secs, strict=True) if v is not None and s is not None]
        weight = sum(v for v, _ in both)
        out[(channel_id, m)] = {
            "visits": sum(v for v in visits if v is not None),
            "inquiries": sum(_as_int(v) for v in g["inquiries"] if not _is_null(v)),
            "carts": sum(_as_int(v) for v in g["carts"] if not _is_null(v)),
            "spend": sum((_as_decimal(v) for v in g["spend"] if not _is_null(v)), Decimal("0.00")),
            "avg_visit_seconds": (math.fsum(v * s for v, s in both) / weight) if weight else None,
        }
    return out


def _purchases_by_channel_month(p: pd.DataFrame) -> dict[tuple[str, dt.date], dict]:
    # Date of each customer's second purchase through each channel (repeat buyer from then on).
    dates_through: dict[tuple[str, str], list[dt.date]] = {}
    for c, ch, d in zip(p["customer_id"], p["channel_id"], p["order_date"], strict=True):
        dates_through.setdefault((c, ch), []).append(d)
    second_date = {k: sorted(v)[1] for k, v in dates_through.items() if len(v) >= 2}
    out: dict[tuple[str, dt.date], dict] = {}
    for (channel_id, m), g in p.groupby(["channel_id", "month"], sort=True):
        me = month_end(m)
        buyers = set(g["customer_id"])
        repeat = {c for c in buyers if (c, channel_id) in second_date and second_date[(c, channel_id)] <= me}
        out[(channel_id, m)] = {
            "orders": len(g),
            "buyers": len(buyers),
            "repeat_buyers": len(repeat),
            "revenue": sum(g["amount"], Decimal("0.00")),
        }
    return out


def lead_facts(inp: _Inputs) -> pd.DataFrame:
    """One row per lead: channel_id, cohort month, created date, furthest funnel step, won cycle."""
    latest = latest_records(_arrived(inp.leads, inp.D), ["lead_id", "stage"], has_updated_at=False)
    latest = _rows(latest, (d is not None and d <= inp.D for d in latest["stage_date"])).copy()
    latest["_stage_rank"] = [STAGE_ORDER[s] for s in latest["stage"]]
    # Each lead's rows in the order stage_ts, then funnel order: the first row gives the channel.
    latest = latest.sort_values(["lead_id", "stage_ts", "_stage_rank"], kind="mergesort")
    per_lead: dict[str, dict] = {}
    for lead_id, channel_id, stage, stage_date in zip(
        latest["lead_id"], latest["channel_id"], latest["stage"], latest["stage_date"], strict=False
    ):
        lead = per_lead.setdefault(
            lead_id, {"channel_id": channel_id, "earliest_date": stage_date, "stage_dates": {}}
        )
        lead["stage_dates"][stage] = stage_date
    rows = []
    for lead_id, lead in per_lead.items():
        stage_dates = lead["stage_dates"]
        created_date = stage_dates.get("created", lead["earliest_date"])
        reached = max((STAGE_ORDER[s] for s in stage_dates if s in FUNNEL_STEPS), default=0)
        won_date = stage_dates.get("won")
        rows.append(
            {
                "lead_id": lead_id,
                "channel_id": lead["channel_id"],
                "created_date": created_date,
                "month": month_start(created_date),
                "reached": reached,
                "cycle_days": None if won_date is None else (won_date - created_date).days,
            }
        )
    return pd.DataFrame(
        rows, columns=["lead_id", "channel_id", "created_date", "month", "reached", "cycle_days"]
    )


def _leads_by_channel_month(inp: _Inputs) -> dict[tuple[str, dt.date], dict]:
    facts = lead_facts(inp)
    target = inp.seeds.t("cycle_target_days")
    out: dict[tuple[str, dt.date], dict] = {}
    for (channel_id, m), g in facts.groupby(["channel_id", "month"], sort=True):
        reached = list(g["reached"])
        cycles = [int(c) for c in g["cycle_days"] if not _is_null(c)]
        median = percentile_cont(cycles, Fraction(1, 2))
        out[(channel_id, m)] = {
            "leads_created": len(reached),
            "leads_qualified": sum(r >= 1 for r in reached),
            "leads_proposal": sum(r >= 2 for r in reached),
            "leads_won": sum(r >= 3 for r in reached),
            "cycle_days_median": median,
            "cycle_days_p90": percentile_cont(cycles, Fraction(9, 10)),
            "cycle_within_target": None if median is None else Fraction(median) <= target,
        }
    return out


def _channel_types(inp: _Inputs) -> dict[str, str | None]:
    ch = latest_records(_arrived(inp.channels, inp.D), ["channel_id"], has_updated_at=True)
    return dict(zip(ch["channel_id"], ch["channel_type"], strict=True))


def _channel_months(inp: _Inputs, p: pd.DataFrame):
    act = _activity_by_channel_month(inp)
    buy = _purchases_by_channel_month(p)
    leads = _leads_by_channel_month(inp)
    keys = sorted(set(act) | set(buy) | set(leads))
    return keys, act, buy, leads


def channel_funnel(inp: _Inputs, p: pd.DataFrame) -> pd.DataFrame:
    keys, act, buy, leads = _channel_months(inp, p)
    types = _channel_types(inp)
    rows = []
    for channel_id, m in keys:
        a = act.get((channel_id, m), {})
        b = buy.get((channel_id, m), {})
        lf = leads.get((channel_id, m), {})
        visits, inquiries, carts = a.get("visits", 0), a.get("inquiries", 0), a.get("carts", 0)
        orders, buyers, repeat_buyers = b.get("orders", 0), b.get("buyers", 0), b.get("repeat_buyers", 0)
        created = lf.get("leads_created", 0)
        qualified = lf.get("leads_qualified", 0)
        proposal = lf.get("leads_proposal", 0)
        won = lf.get("leads_won", 0)
        vtor = ratio(orders, visits)
        win_rate = ratio(won, created)
        bench = inp.seeds.benchmarks.get(types.get(channel_id))
        rows.append(
            {
                "channel_id": channel_id,
                "month": m,
                "visits": visits,
                "avg_visit_seconds": a.get("avg_visit_seconds"),
                "inquiries": inquiries,
                "carts": carts,
                "orders": orders,
                "buyers": buyers,
                "repeat_buyers": repeat_buyers,
                "inquiry_rate": _f(ratio(inquiries, visits)),
                "cart_rate": _f(ratio(carts, visits)),
                "close_rate": _f(ratio(orders, inquiries)),
                "visit_to_order_rate": _f(vtor),
                "repeat_rate": _f(ratio(repeat_buyers, buyers)),
                "leads_created": created,
                "leads_qualified": qualified,
                "leads_proposal": proposal,
                "leads_won": won,
                "qualified_rate": _f(ratio(qualified, created)),
                "proposal_rate": _f(ratio(proposal, qualified)),
                "won_rate": _f(ratio(won, proposal)),
                "win_rate": _f(win_rate),
                "cycle_days_median": lf.get("cycle_days_median"),
                "cycle_days_p90": lf.get("cycle_days_p90"),
                "cycle_within_target": lf.get("cycle_within_target"),
                "below_benchmark": sql_or(
                    sql_lt(vtor, bench[0] if bench else None),
                    sql_lt(win_rate, bench[1] if bench else None),
                ),
            }
        )
    return _typed_frame(rows, FUNNEL_COLUMNS)


def channel_health(inp: _Inputs, p: pd.DataFrame) -> pd.DataFrame:
    keys, act, buy, _ = _channel_months(inp, p)
    types = _channel_types(inp)
    s = inp.seeds
    # First purchase of every customer (p is sorted by order_ts, order_id).
    first = p.drop_duplicates("customer_id", keep="first")
    first_channel = dict(zip(first["customer_id"], first["channel_id"], strict=True))
    first_date = dict(zip(first["customer_id"], first["order_date"], strict=True))
    acq_channel = pd.Series(first_channel, dtype=object)
    acq_day = pd.Series({c: d.toordinal() for c, d in first_date.items()}, dtype="int64")
    p_acq_channel = p["customer_id"].map(first_channel)
    p_first_day = p["customer_id"].map(first_date).map(lambda d: d.toordinal())
    p_day = p["order_date"].map(lambda d: d.toordinal())
    new_customers: dict[tuple[str, dt.date], int] = {}
    for c, ch in first_channel.items():
        k = (ch, month_start(first_date[c]))
        new_customers[k] = new_customers.get(k, 0) + 1

    rows = []
    for channel_id, m in keys:
        a = act.get((channel_id, m), {})
        b = buy.get((channel_id, m), {})
        me = month_end(m)
        spend = a.get("spend", Decimal("0.00"))
        revenue = b.get("revenue", Decimal("0.00"))
        new = new_customers.get((channel_id, m), 0)
        cac_q = ratio(spend, new)
        cac = None if cac_q is None else round_cents(cac_q)
        # CLV cohort: customers acquired through the channel (first purchase) by the month's end;
        # their revenue through any channel dated me-364..me.
        cohort_size = int(((acq_channel == channel_id) & (acq_day <= me.toordinal())).sum())
        if cohort_size:
            in_window = (
                (p_acq_channel == channel_id)
                & (p_first_day <= me.toordinal())
                & (p_day >= (me - dt.timedelta(days=364)).toordinal())
                & (p_day <= me.toordinal())
            )
            cohort_rev = sum(p["amount"][in_window], Decimal("0.00"))
            clv = round_cents(
                Fraction(cohort_rev) / cohort_size * s.t("gross_margin") * s.t("expected_lifetime_years")
            )
        else:
            clv = None
        cac_over = (
            None if (cac is None or clv is None) else Fraction(cac) > s.t("cac_clv_ratio") * Fraction(clv)
        )
        bench = s.benchmarks.get(types.get(channel_id))
        conversion = ratio(b.get("orders", 0), a.get("visits", 0))
        rows.append(
            {
                "channel_id": channel_id,
                "month": m,
                "spend": spend,
                "new_customers": new,
                "cac": cac,
                "revenue": revenue,
                "_roi": ratio(revenue, spend),
                "conversion": _f(conversion),
                "clv": clv,
                "cac_over_30pct_clv": cac_over,
                "conversion_below_benchmark": sql_lt(conversion, bench[0] if bench else None),
            }
        )

    # cac_trigger_streak: consecutive calendar months ending here with the flag true.
    streak_of: dict[tuple[str, dt.date], int] = {}
    for r in sorted(rows, key=lambda r: (r["channel_id"], r["month"])):
        prev = streak_of.get((r["channel_id"], prev_month(r["month"])), 0)
        streak_of[(r["channel_id"], r["month"])] = prev + 1 if r["cac_over_30pct_clv"] is True else 0
    # roi_top_20pct: rank() by roi desc within the month <= ceil(share * channels with a roi).
    share = s.t("roi_top_share")
    by_month: dict[dt.date, list[Fraction]] = {}
    for r in rows:
        if r["_roi"] is not None:
            by_month.setdefault(r["month"], []).append(r["_roi"])
    for r in rows:
        r["cac_trigger_streak"] = streak_of[(r["channel_id"], r["month"])]
        r["optimisation_required"] = r["cac_trigger_streak"] >= s.t("cac_trigger_months")
        r["roi"] = _f(r["_roi"])
        if r["_roi"] is None:
            r["roi_top_20pct"] = False
        else:
            rois = by_month[r["month"]]
            rank = 1 + sum(x > r["_roi"] for x in rois)
            r["roi_top_20pct"] = rank <= math.ceil(share * len(rois))
    return _typed_frame(rows, HEALTH_COLUMNS)


# --------------------------------------------------------------------------------------------
# mart_nps
# --------------------------------------------------------------------------------------------


def _nps_figures(scores: list[int], csats: list[int | None], low_sample: Fraction) -> dict:
    n = len(scores)
    promoters = sum(9 <= x <= 10 for x in scores)
    passives = sum(7 <= x <= 8 for x in scores)
    detractors = sum(0 <= x <= 6 for x in scores)
    p, d = Fraction(promoters, n), Fraction(detractors, n)
    with_csat = [c for c in csats if c is not None]
    return {
        "responses": n,
        "promoters": promoters,
        "passives": passives,
        "detractors": detractors,
        "_nps": 100 * (p - d),
        "nps": float(100 * (p - d)),
        "nps_moe_95": 100 * 1.96 * math.sqrt(float((p + d - (p - d) ** 2) / n)),
        "low_sample": n < low_sample,
        "csat": _f(ratio(sum(c >= 4 for c in with_csat), len(with_csat))),
    }


def nps(inp: _Inputs, tiers: pd.DataFrame) -> pd.DataFrame:
    s = latest_records(_arrived(inp.surveys, inp.D), ["response_id"], has_updated_at=False)
    s = _rows(s, (d is not None and d <= inp.D for d in s["submitted_date"])).copy()
    s["month"] = [month_start(d) for d in s["submitted_date"]]
    # Latest answer first: submitted_at desc, then response_id desc.
    s = s.sort_values(["submitted_at", "response_id"], ascending=False, kind="mergesort")
    tier_of = dict(zip(tiers["customer_id"], tiers["customer_tier"], strict=True))
    low = inp.seeds.t("nps_low_sample")

    per_channel = s[s["channel_id"].notna()].drop_duplicates(
        ["customer_id", "month", "channel_id"], keep="first"
    )
    per_customer = s.drop_duplicates(["customer_id", "month"], keep="first").copy()
    per_customer["customer_tier"] = [tier_of.get(c, "potential") for c in per_customer["customer_id"]]

    rows: list[dict] = []

    def add(frame: pd.DataFrame, grain: str, key_col: str | None):
        group_cols = ([key_col] if key_col else []) + ["month"]
        for key, g in frame.groupby(group_cols, sort=True):
            key = key if isinstance(key, tuple) else (key,)
            row = {"grain": grain, "channel_id": None, "customer_tier": None, "month": key[-1]}
            if key_col:
                row[key_col] = key[0]
            row.update(
                _nps_figures([int(x) for x in g["nps_score"]], [_as_int(c) for c in g["csat_score"]], low)
            )
            rows.append(row)

    add(per_channel, "channel", "channel_id")
    add(per_customer, "all", None)
    add(per_customer, "tier", "customer_tier")

    nps_of = {(r["grain"], r["channel_id"], r["customer_tier"], r["month"]): r["_nps"] for r in rows}
    for r in rows:
        prev = nps_of.get((r["grain"], r["channel_id"], r["customer_tier"], prev_month(r["month"])))
        r["nps_change"] = None if prev is None else float(r["_nps"] - prev)
    return _typed_frame(rows, NPS_COLUMNS)


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def compute_core_marts(
    raw: dict[str, pd.DataFrame], seeds_dir: Path, tz: str = "Asia/Shanghai"
) -> dict[str, pd.DataFrame]:
    """The six core marts, computed from the raw frames (see raw_io.load_raw) and the seed CSVs."""
    inp = _inputs(raw, Path(seeds_dir), tz)
    p = purchases(inp.orders, arrived_by=inp.D, as_of=inp.D)
    rfm = customer_rfm(inp)
    tiers = customer_tiers(inp, rfm)
    return {
        "mart_customer_rfm": rfm,
        "mart_customer_tiers": tiers,
        "mart_customer_rfm_history": customer_rfm_history(inp),
        "mart_channel_funnel": channel_funnel(inp, p),
        "mart_nps": nps(inp, tiers),
        "mart_channel_health": channel_health(inp, p),
    }
