"""Independent pandas oracle for the customer-care and sales-management marts.

Written only from the specification (``issues show 6``, the common rules of ``issues show 4``),
``docs/mart_rules.md``; it never looks at the dbt SQL. The
end-to-end test compares what this module computes with the dbt marts, to the cent and to the count.

Entry point::

    compute_care_marts(raw, seeds_dir, tz="Asia/Shanghai", core=None) -> dict[str, DataFrame]

``raw`` is the dict returned by ``tests/oracle/raw_io.load_raw`` (one DataFrame per raw table:
``orders``, ``customers``, ``channels``, ``channel_activity``, ``leads``, ``complaints``,
``sales_targets``, ``surveys``, ``ingest_log``; timestamps tz-aware, money as Decimal). ``core`` is
the dict of ``compute_core_marts`` (``mart_customer_rfm`` and ``mart_nps`` are used); it is computed
when not given.

Output conventions (the dbt types in brackets):
  money                      -> decimal.Decimal with two places, object dtype   [DECIMAL(18,2)]
  counts / integers          -> pandas "Int64"                                  [BIGINT]
  rates, shares, minutes ... -> pandas "Float64"                                [DOUBLE]
  flags                      -> pandas "boolean"                                [BOOLEAN]
  dates and months           -> datetime.date, object dtype                     [DATE]
  timestamps                 -> datetime64[us, UTC]                             [TIMESTAMPTZ]
  NULL                       -> None / pd.NA
Internally money is held as integer cents, so sums are exact; divisions are rounded to the cent,
halves away from zero, with decimal arithmetic.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

try:  # the feed contract in code (column lists and keys)
    from dagster_project.ingest.feeds import FEEDS
except ImportError:  # pragma: no cover - the project is installed in the venv
    FEEDS = None

__all__ = ["compute_care_marts", "MART_NAMES", "MART_KEYS", "as_of_date"]

MART_NAMES = (
    "mart_churn_warning",
    "mart_loyalty",
    "mart_complaint_sla",
    "mart_complaint_sla_monthly",
    "mart_interview_sample",
    "mart_channel_conflict",
    "fct_conflict_orders",
    "mart_referral_vs_paid",
    "mart_sales_kpis",
)

# Key columns of each mart (for compare.assert_frames_match); NULL keys match NULL keys.
MART_KEYS: dict[str, list[str]] = {
    "mart_churn_warning": ["customer_id"],
    "mart_loyalty": ["customer_id"],
    "mart_complaint_sla": ["ticket_id"],
    "mart_complaint_sla_monthly": ["grain", "channel_id", "month"],
    "mart_interview_sample": ["month", "customer_id"],
    "mart_channel_conflict": ["channel_id", "month"],
    "fct_conflict_orders": ["order_id"],
    "mart_referral_vs_paid": ["month"],
    "mart_sales_kpis": ["grain", "channel_id", "month"],
}

LINEAGE = ("_source_file", "_line_number", "_partition_date", "_ingested_at")
STAGE_RANK = {"created": 0, "qualified": 1, "proposal": 2, "won": 3, "lost": 4}
CATEGORIES = ("quality", "delivery", "service", "billing", "other")
SEVERITIES = ("low", "medium", "high")

# Fallback contract (only used if the project package cannot be imported).
_FALLBACK_FEEDS = {
    "customers": (("customer_id",), True, {"signup_ts": "timestamp", "updated_at": "timestamp"}),
    "channels": (("channel_id",), True, {"updated_at": "timestamp"}),
    "channel_activity": (
        ("activity_date", "channel_id"),
        False,
        {"activity_date": "date", "spend": "money"},
    ),
    "leads": (("lead_id", "stage"), False, {"stage_ts": "timestamp"}),
    "orders": (
        ("order_id",),
        True,
        {"order_ts": "timestamp", "updated_at": "timestamp", "amount": "money", "is_referral": "bool"},
    ),
    "surveys": (("response_id",), False, {"submitted_at": "timestamp"}),
    "complaints": (
        ("ticket_id",),
        True,
        {
            "opened_at": "timestamp",
            "first_response_at": "timestamp",
            "resolved_at": "timestamp",
            "updated_at": "timestamp",
        },
    ),
    "sales_targets": (
        ("month", "channel_id"),
        False,
        {"month": "month", "revenue_target": "money", "new_customers_target": "int"},
    ),
}
_FALLBACK_COLUMNS = {
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


# ----------------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------------


def _feed_spec(name: str) -> tuple[tuple[str, ...], tuple[str, ...], bool, dict[str, str]]:
    """(columns, key, has_updated_at, {column: kind}) of a feed."""
    if FEEDS is not None:
        f = FEEDS[name]
        return f.column_names, f.key, f.has_updated_at, {c.name: c.kind for c in f.columns}
    key, has_upd, kinds = _FALLBACK_FEEDS[name]
    return _FALLBACK_COLUMNS[name], key, has_upd, kinds


def _is_null(v) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    try:
        return bool(isinstance(v, float) and math.isnan(v))
    except TypeError:  # pragma: no cover
        return False


def _cents_of(v) -> int | None:
    if _is_null(v):
        return None
    d = v if isinstance(v, Decimal) else Decimal(str(v))
    return int((d * 100).to_integral_value(rounding=ROUND_HALF_UP))


def _cents(s: pd.Series) -> pd.Series:
    """Money column (Decimal, str, int or float) -> exact integer cents (Int64)."""
    return pd.Series(pd.array([_cents_of(v) for v in s], dtype="Int64"), index=s.index)


def _money(c) -> Decimal | None:
    """Integer cents -> Decimal with two places (None stays None)."""
    if _is_null(c):
        return None
    return Decimal(int(c)).scaleb(-2)


def _money_col(s: pd.Series) -> pd.Series:
    return pd.Series([_money(v) for v in s], index=s.index, dtype=object)


def _div_cents(num_cents, den) -> int | None:
    """num_cents / den rounded to the cent, halves away from zero; None for a zero denominator."""
    if _is_null(num_cents) or _is_null(den) or den == 0:
        return None
    q = Decimal(int(num_cents)) / Decimal(int(den))
    return int(q.to_integral_value(rounding=ROUND_HALF_UP))


def _ratio(num, den) -> float | None:
    if _is_null(num) or _is_null(den) or den == 0:
        return None
    return float(num) / float(den)


def _ge_share(num, den, threshold: Fraction) -> bool | None:
    """Exact num / den >= threshold (no float rounding at the boundary); None when undefined."""
    if _is_null(num) or _is_null(den) or den == 0:
        return None
    return Fraction(int(num)) >= threshold * Fraction(int(den))


def _ceil_share(n: int, share: Fraction) -> int:
    """ceil(share * n) in exact arithmetic (0.1 * n is not exact in binary floating point)."""
    x = share * n
    return -((-x.numerator) // x.denominator)


def _pct_cont(values, q: float) -> float | None:
    """Continuous percentile with linear interpolation (percentile_cont / quantile_cont)."""
    v = sorted(float(x) for x in values if not _is_null(x))
    if not v:
        return None
    pos = q * (len(v) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def _utc(s: pd.Series) -> pd.Series:
    out = pd.to_datetime(s, utc=True)
    return out.astype("datetime64[us, UTC]")


def _day_value(v):
    if _is_null(v):
        return None
    if isinstance(v, str):
        v = v.strip()
        return v + "-01" if len(v) == 7 else v[:10]  # 'YYYY-MM' is a month
    return v


def _day(s: pd.Series) -> pd.Series:
    """DATE-like column (date, datetime64, 'YYYY-MM-DD', 'YYYY-MM') -> naive datetime64 day."""
    out = pd.to_datetime(pd.Series([_day_value(v) for v in s], index=s.index, dtype=object))
    return out.dt.normalize().astype("datetime64[us]")


def _local_day(ts: pd.Series, tz: str) -> pd.Series:
    return ts.dt.tz_convert(tz).dt.tz_localize(None).dt.normalize().astype("datetime64[us]")


def _mi(day: pd.Series) -> pd.Series:
    """Month index (year * 12 + month - 1) of a day column; <NA> for NaT."""
    return (day.dt.year * 12 + day.dt.month - 1).astype("Int64")


def _mi_of(d) -> int:
    return d.year * 12 + d.month - 1


def _mi_date(mi) -> date | None:
    if _is_null(mi):
        return None
    mi = int(mi)
    return date(mi // 12, mi % 12 + 1, 1)


def _as_date_col(s: pd.Series) -> pd.Series:
    return pd.Series([None if _is_null(v) else v.date() for v in s], index=s.index, dtype=object)


def _bool(v) -> bool | None:
    if _is_null(v):
        return None
    if isinstance(v, str):
        return {"true": True, "false": False}.get(v.strip().lower())
    return bool(v)


def _norm_regions(v) -> tuple[str, ...]:
    """authorized_regions ('a;b') -> sorted distinct trimmed non-empty regions."""
    if _is_null(v):
        return ()
    return tuple(sorted({r.strip() for r in str(v).split(";") if r.strip()}))


def _norm_region(v) -> str | None:
    if _is_null(v) or not str(v).strip():
        return None
    return str(v).strip()


# ----------------------------------------------------------------------------------------------
# inputs
# ----------------------------------------------------------------------------------------------


def _load_feed(raw: dict, name: str) -> pd.DataFrame:
    columns, _key, _upd, kinds = _feed_spec(name)
    df = raw.get(name)
    if df is None:
        df = pd.DataFrame({c: pd.Series([], dtype=object) for c in (*columns, *LINEAGE)})
    df = df.copy()
    for c in (*columns, *LINEAGE):
        if c not in df.columns:
            df[c] = pd.Series([None] * len(df), index=df.index, dtype=object)
    for c, kind in kinds.items():
        if kind == "timestamp":
            df[c] = _utc(df[c])
        elif kind in ("date", "month"):
            df[c] = _day(df[c])
        elif kind == "money":
            df[c + "_cents"] = _cents(df[c])
        elif kind == "bool":
            df[c] = pd.Series([_bool(v) for v in df[c]], index=df.index, dtype="boolean")
    df["_partition_date"] = _day(df["_partition_date"])
    df["_line_number"] = pd.to_numeric(df["_line_number"]).astype("Int64")
    return df.reset_index(drop=True)


def _latest(df: pd.DataFrame, key: tuple[str, ...], has_updated_at: bool) -> pd.DataFrame:
    """The contract's latest record per key: updated_at, _partition_date, _source_file,
    _line_number, all descending; the first row wins."""
    order = (["updated_at"] if has_updated_at else []) + ["_partition_date", "_source_file", "_line_number"]
    out = df.sort_values(order, ascending=False, kind="mergesort", na_position="last")
    return out.drop_duplicates(list(key), keep="first").reset_index(drop=True)


def _latest_feed(raw: dict, name: str) -> pd.DataFrame:
    _cols, key, upd, _kinds = _feed_spec(name)
    return _latest(_load_feed(raw, name), key, upd)


def _read_seed(seeds_dir: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(Path(seeds_dir) / f"{name}.csv", dtype=str, keep_default_na=False)


def _thresholds(seeds_dir: Path, name: str, key_col: str) -> dict[str, Fraction]:
    """A threshold seed as exact fractions (read from the text, so 0.8 is exactly 4/5)."""
    df = _read_seed(seeds_dir, name)
    return {r[key_col]: Fraction(Decimal(r["threshold_value"].strip())) for _, r in df.iterrows()}


@dataclass
class _Ctx:
    tz: str
    D: pd.Timestamp  # naive local day
    mi_D: int
    end_of_D: pd.Timestamp  # UTC instant at midnight ending local day D
    purchases: pd.DataFrame
    first_purchases: pd.DataFrame
    leads: pd.DataFrame
    spend: pd.DataFrame  # channel_id, mi, spend_cents
    channels_current: pd.DataFrame
    channels_history: pd.DataFrame
    customers: pd.DataFrame
    complaints: pd.DataFrame
    targets: pd.DataFrame
    calendar: list[int]


def _as_of(raw: dict) -> pd.Timestamp:
    log = raw.get("ingest_log")
    if log is not None and len(log) and log["partition_date"].notna().any():
        return _day(log["partition_date"]).max()
    # fallback for hand-made inputs without an ingest log: the latest partition of any feed
    days = [
        _day(df["_partition_date"]).max()
        for k, df in raw.items()
        if k != "ingest_log" and isinstance(df, pd.DataFrame) and "_partition_date" in df and len(df)
    ]
    if not days:
        raise ValueError("no partition loaded: D is undefined")
    return max(days)


def _context(raw: dict, tz: str) -> _Ctx:
    D = _as_of(raw)
    mi_D = _mi_of(D)
    end_of_D = (D + pd.Timedelta(days=1)).tz_localize(tz).tz_convert("UTC")

    # purchases: latest record paid, local order date <= D
    o = _latest_feed(raw, "orders")
    o["day"] = _local_day(o["order_ts"], tz)
    p = o[(o["status"] == "paid") & (o["day"] <= D)].copy()
    p["mi"] = _mi(p["day"])
    p["cents"] = p["amount_cents"].astype("int64")
    p = p.sort_values(["order_ts", "order_id"], kind="mergesort").reset_index(drop=True)
    fp = p.drop_duplicates("customer_id", keep="first").reset_index(drop=True)

    # lead cohorts (as mart_channel_funnel)
    lr = _latest_feed(raw, "leads")
    lr["day"] = _local_day(lr["stage_ts"], tz)
    lr = lr[lr["day"] <= D].copy()
    lr["srank"] = lr["stage"].map(STAGE_RANK)
    lr = lr.sort_values(["lead_id", "stage_ts", "srank"], kind="mergesort")
    first = lr.drop_duplicates("lead_id")[["lead_id", "channel_id", "day"]].rename(
        columns={"day": "first_day"}
    )
    created = (
        lr[lr["stage"] == "created"].drop_duplicates("lead_id")[["lead_id", "day"]]
        .rename(columns={"day": "created_day"})
    )
    won = (
        lr[lr["stage"] == "won"].drop_duplicates("lead_id")[["lead_id", "day"]]
        .rename(columns={"day": "won_day"})
    )
    leads = first.merge(created, on="lead_id", how="left").merge(won, on="lead_id", how="left")
    leads["created_day"] = leads["created_day"].fillna(leads["first_day"])
    leads["cohort_mi"] = _mi(leads["created_day"])
    leads["won"] = leads["won_day"].notna()
    leads["cycle_days"] = (leads["won_day"] - leads["created_day"]).dt.days
    leads = leads.reset_index(drop=True)

    # channel activity spend
    a = _latest_feed(raw, "channel_activity")
    a = a[a["activity_date"] <= D].copy()
    a["mi"] = _mi(a["activity_date"])
    a["spend_cents"] = a["spend_cents"].fillna(0).astype("int64")
    spend = a.groupby(["channel_id", "mi"], as_index=False)["spend_cents"].sum()

    # channels: current record and history (one record per channel_id and updated_at)
    ch_all = _load_feed(raw, "channels")
    ch_cur = _latest(ch_all, ("channel_id",), True)
    ch_hist = _latest(ch_all, ("channel_id", "updated_at"), False)
    ch_hist = ch_hist.sort_values(["channel_id", "updated_at"], kind="mergesort").reset_index(drop=True)

    customers = _latest_feed(raw, "customers")

    c = _latest_feed(raw, "complaints")
    c["opened_day"] = _local_day(c["opened_at"], tz)
    c = c[c["opened_day"] <= D].reset_index(drop=True)

    t = _latest_feed(raw, "sales_targets")
    t["mi"] = _mi(t["month"])
    t = t[t["mi"] <= mi_D].reset_index(drop=True)

    # the calendar of the sales-management marts
    sources = [p["mi"], leads["cohort_mi"], spend["mi"], t["mi"]]
    starts = [int(s.min()) for s in sources if len(s.dropna())]
    start = min(starts + [mi_D])
    calendar = list(range(start, mi_D + 1))

    return _Ctx(tz, D, mi_D, end_of_D, p, fp, leads, spend, ch_cur, ch_hist, customers, c, t, calendar)


def _core_frames(core, raw, seeds_dir, tz) -> tuple[pd.DataFrame, pd.DataFrame]:
    if core is None:
        try:
            from .core_marts import compute_core_marts  # type: ignore[import-not-found]
        except ImportError:  # loaded as a top-level module
            from core_marts import compute_core_marts  # type: ignore[import-not-found,no-redef]
        core = compute_core_marts(raw, seeds_dir, tz)
    rfm = core["mart_customer_rfm"].copy()
    rfm["monetary_cents"] = _cents(rfm["monetary"])
    nps = core.get("mart_nps")
    if nps is None:
        nps = pd.DataFrame(columns=["grain", "channel_id", "customer_tier", "month", "nps", "csat"])
    nps = nps.copy()
    nps["mi"] = _mi(_day(nps["month"])) if len(nps) else pd.Series([], dtype="Int64")
    return rfm, nps


# ----------------------------------------------------------------------------------------------
# mart_churn_warning
# ----------------------------------------------------------------------------------------------


def _churn_warning(ctx: _Ctx, rfm: pd.DataFrame, care: dict, offers: dict) -> pd.DataFrame:
    D = ctx.D
    month_is_complete = (D + pd.Timedelta(days=1)).month != D.month
    m0 = ctx.mi_D if month_is_complete else ctx.mi_D - 1
    months = [m0 - k for k in range(4)]
    p = ctx.purchases[ctx.purchases["mi"].isin(months)]
    spend = p.groupby(["customer_id", "mi"])["cents"].sum().unstack(fill_value=0)
    spend = spend.reindex(columns=months, fill_value=0).fillna(0).astype("int64")
    spend.columns = months
    ratio = care["churn_decline_ratio"]
    rn, rd = ratio.numerator, ratio.denominator
    dec = []
    for k in range(3):
        cur, prev = spend[months[k]], spend[months[k + 1]]
        dec.append((prev > 0) & (cur * rd <= prev * rn))
    streak = dec[0].astype(int) + (dec[0] & dec[1]).astype(int) + (dec[0] & dec[1] & dec[2]).astype(int)
    out = pd.DataFrame(index=spend.index).reset_index()
    out["month"] = _mi_date(m0)
    for k in range(4):
        out[f"spend_m{k}"] = _money_col(pd.Series(spend[months[k]].to_numpy()))
    out["decline_streak"] = pd.array(streak.to_numpy(), dtype="Int64")
    out["churn_warning"] = pd.array(
        (streak.to_numpy() >= int(care["churn_streak_months"])), dtype="boolean"
    )
    ids = list(out["customer_id"])
    for col in ("customer_tier", "rfm_segment"):
        look = dict(zip(rfm["customer_id"], rfm[col], strict=True))
        out[col] = pd.Series([look.get(c) for c in ids], index=out.index, dtype=object)
    look = dict(zip(rfm["customer_id"], rfm["monetary_cents"], strict=True))
    out["monetary"] = pd.Series([_money(look.get(c)) for c in ids], index=out.index, dtype=object)
    out["win_back_offer"] = pd.Series([offers.get(t) for t in out["customer_tier"]], index=out.index,
                                      dtype=object)
    return out.sort_values("customer_id").reset_index(drop=True)


# ----------------------------------------------------------------------------------------------
# mart_loyalty
# ----------------------------------------------------------------------------------------------


def _loyalty(ctx: _Ctx, tiers_seed: pd.DataFrame) -> pd.DataFrame:
    seed = tiers_seed.copy()
    seed["tier_rank"] = seed["tier_rank"].astype(int)
    seed["min_cents"] = [_cents_of(Decimal(v.strip())) for v in seed["min_lifetime_revenue"]]
    seed = seed.sort_values("tier_rank").reset_index(drop=True)
    known = ctx.customers[["customer_id"]].drop_duplicates()
    p = ctx.purchases[ctx.purchases["customer_id"].isin(known["customer_id"])].copy()
    # purchases are sorted by (order_ts, order_id): running lifetime revenue per customer
    p["running"] = p.groupby("customer_id")["cents"].cumsum()
    p["points"] = p["cents"] // 100  # floor(amount), amount > 0
    agg = p.groupby("customer_id").agg(points=("points", "sum"), lifetime=("cents", "sum"))
    out = known.merge(agg, left_on="customer_id", right_index=True, how="left")
    out["points"] = out["points"].fillna(0).astype("int64")
    out["lifetime"] = out["lifetime"].fillna(0).astype("int64")

    # the highest tier whose minimum the lifetime revenue reaches (seed sorted by rank and minimum)
    mins = seed["min_cents"].to_numpy(dtype="int64")
    pos = np.searchsorted(mins, out["lifetime"].to_numpy(dtype="int64"), side="right") - 1
    out["tier_rank"] = seed["tier_rank"].to_numpy()[pos]
    by_rank = seed.set_index("tier_rank")
    out["loyalty_tier"] = out["tier_rank"].map(by_rank["loyalty_tier"])
    out["benefits"] = out["tier_rank"].map(by_rank["benefits"])
    out["tier_min"] = out["tier_rank"].map(by_rank["min_cents"])
    max_rank = int(seed["tier_rank"].max())
    nxt = out["tier_rank"] + 1
    out["next_tier"] = nxt.map(by_rank["loyalty_tier"]).where(out["tier_rank"] < max_rank, None)
    next_min = nxt.map(by_rank["min_cents"])
    out["amount_to_next_tier"] = [
        None if r >= max_rank else _money(int(nm) - int(lt))
        for r, nm, lt in zip(out["tier_rank"], next_min, out["lifetime"], strict=True)
    ]
    # tier_since: the local date of the purchase whose running total first reaches the tier minimum
    pm = p.merge(out[["customer_id", "tier_rank", "tier_min"]], on="customer_id")
    pm = pm[(pm["tier_rank"] > 0) & (pm["running"] >= pm["tier_min"])]
    first_reach = pm.drop_duplicates("customer_id", keep="first")
    since = dict(zip(first_reach["customer_id"], (d.date() for d in first_reach["day"]), strict=True))
    out["tier_since"] = pd.Series([since.get(c) for c in out["customer_id"]], index=out.index, dtype=object)
    res = pd.DataFrame(
        {
            "customer_id": out["customer_id"],
            "points": pd.array(out["points"], dtype="Int64"),
            "lifetime_revenue": _money_col(out["lifetime"]),
            "loyalty_tier": out["loyalty_tier"],
            "tier_rank": pd.array(out["tier_rank"], dtype="Int64"),
            "tier_since": out["tier_since"],
            "next_tier": out["next_tier"].astype(object).where(out["next_tier"].notna(), None),
            "amount_to_next_tier": pd.Series(out["amount_to_next_tier"], index=out.index, dtype=object),
            "benefits": out["benefits"],
        }
    )
    return res.sort_values("customer_id").reset_index(drop=True)


# ----------------------------------------------------------------------------------------------
# mart_complaint_sla / mart_complaint_sla_monthly
# ----------------------------------------------------------------------------------------------


def _complaint_sla(ctx: _Ctx, care: dict) -> pd.DataFrame:
    c = ctx.complaints
    resp_limit = pd.Timedelta(microseconds=int(care["response_sla_minutes"] * 60 * 10**6))
    res_limit = pd.Timedelta(microseconds=int(care["resolution_sla_hours"] * 3600 * 10**6))
    eod = ctx.end_of_D
    resp_td = c["first_response_at"] - c["opened_at"]
    res_td = c["resolved_at"] - c["opened_at"]
    responded_within = (resp_td <= resp_limit).astype("boolean").where(resp_td.notna(), pd.NA)
    resolved_within = (res_td <= res_limit).astype("boolean").where(res_td.notna(), pd.NA)
    is_open = c["resolved_at"].isna() | (c["resolved_at"] >= eod)
    resp_passed = (c["opened_at"] + resp_limit) < eod
    res_passed = (c["opened_at"] + res_limit) < eod
    late = resp_passed & ~responded_within.fillna(False)
    response_breached = late.astype("boolean").where(is_open, pd.NA)
    resolution_breached = res_passed.astype("boolean").where(is_open, pd.NA)
    out = pd.DataFrame(
        {
            "ticket_id": c["ticket_id"],
            "customer_id": c["customer_id"],
            "channel_id": c["channel_id"],
            "category": c["category"],
            "severity": c["severity"],
            "opened_at": c["opened_at"],
            "first_response_at": c["first_response_at"],
            "resolved_at": c["resolved_at"],
            "opened_date": _as_date_col(c["opened_day"]),
            "month": [_mi_date(m) for m in _mi(c["opened_day"])],
            "response_minutes": pd.array(resp_td.dt.total_seconds() / 60.0, dtype="Float64"),
            "resolution_hours": pd.array(res_td.dt.total_seconds() / 3600.0, dtype="Float64"),
            "responded_within_2h": responded_within,
            "resolved_within_24h": resolved_within,
            "is_open": is_open.astype("boolean"),
            "response_breached": response_breached,
            "resolution_breached": resolution_breached,
            # helpers for the monthly mart (dropped from the output)
            "_mi": _mi(c["opened_day"]),
            "_resp_due": resp_passed,
            "_res_due": res_passed,
        }
    )
    return out.sort_values("ticket_id").reset_index(drop=True)


def _sla_monthly(t: pd.DataFrame) -> pd.DataFrame:
    rows = []

    def summarise(g: pd.DataFrame, grain: str, channel_id, mi: int) -> dict:
        resp_due = g[g["_resp_due"]]
        res_due = g[g["_res_due"]]
        n_resp_ok = int((resp_due["responded_within_2h"] == True).sum())  # noqa: E712
        n_res_ok = int((res_due["resolved_within_24h"] == True).sum())  # noqa: E712
        mins = g["response_minutes"].dropna().tolist()
        row = {
            "grain": grain,
            "channel_id": channel_id,
            "month": _mi_date(mi),
            "tickets": len(g),
            "response_due": len(resp_due),
            "responded_within_2h": n_resp_ok,
            "responded_within_2h_share": _ratio(n_resp_ok, len(resp_due)),
            "resolution_due": len(res_due),
            "resolved_within_24h": n_res_ok,
            "resolved_within_24h_share": _ratio(n_res_ok, len(res_due)),
            "response_minutes_median": _pct_cont(mins, 0.5),
            "response_minutes_p90": _pct_cont(mins, 0.9),
            "open_tickets": int(g["is_open"].sum()),
            "open_response_breaches": int((g["response_breached"] == True).sum()),  # noqa: E712
            "open_resolution_breaches": int((g["resolution_breached"] == True).sum()),  # noqa: E712
        }
        for cat in CATEGORIES:
            row[f"category_{cat}"] = int((g["category"] == cat).sum())
        for sev in SEVERITIES:
            row[f"severity_{sev}"] = int((g["severity"] == sev).sum())
        return row

    for mi, g in t.groupby("_mi"):
        rows.append(summarise(g, "all", None, int(mi)))
        for ch, gc in g[g["channel_id"].notna()].groupby("channel_id"):
            rows.append(summarise(gc, "channel", ch, int(mi)))
    cols = ["grain", "channel_id", "month", "tickets", "response_due", "responded_within_2h",
            "responded_within_2h_share", "resolution_due", "resolved_within_24h",
            "resolved_within_24h_share", "response_minutes_median", "response_minutes_p90",
            "open_tickets", "open_response_breaches", "open_resolution_breaches",
            *[f"category_{c}" for c in CATEGORIES], *[f"severity_{s}" for s in SEVERITIES]]
    out = pd.DataFrame(rows, columns=cols)
    for c in cols[3:]:
        out[c] = pd.array(out[c], dtype="Float64" if ("share" in c or "minutes" in c) else "Int64")
    out["channel_id"] = out["channel_id"].astype(object).where(out["channel_id"].notna(), None)
    out["_k"] = out["channel_id"].fillna("")
    return out.sort_values(["month", "grain", "_k"]).drop(columns="_k").reset_index(drop=True)


# ----------------------------------------------------------------------------------------------
# mart_interview_sample
# ----------------------------------------------------------------------------------------------


def _interview_sample(ctx: _Ctx, rfm: pd.DataFrame, care: dict) -> pd.DataFrame:
    share = care["interview_sample_share"]
    cols = ["month", "customer_tier", "customer_id", "sample_key", "sample_rank",
            "eligible_in_tier", "sample_size_in_tier"]
    p = ctx.purchases
    if p.empty:
        return pd.DataFrame(columns=cols)
    tier = dict(zip(rfm["customer_id"], rfm["customer_tier"], strict=True))
    rows = []
    first_mi = int(_mi_of(p["day"].min())) + 1  # the first month whose window can hold a purchase
    for mi in range(first_mi, ctx.mi_D + 1):
        start = pd.Timestamp(_mi_date(mi))
        win = p[(p["day"] >= start - pd.Timedelta(days=365)) & (p["day"] < start)]
        ids = pd.Series(sorted(win["customer_id"].unique()), dtype=object)
        if ids.empty:
            continue
        label = start.strftime("%Y-%m-%d")
        e = pd.DataFrame({"customer_id": ids})
        e["customer_tier"] = [tier.get(c) or "potential" for c in ids]
        e["sample_key"] = [hashlib.md5((cid + label).encode("utf-8")).hexdigest() for cid in ids]
        e = e.sort_values(["customer_tier", "sample_key", "customer_id"], kind="mergesort")
        e["sample_rank"] = e.groupby("customer_tier").cumcount() + 1
        e["eligible_in_tier"] = e.groupby("customer_tier")["customer_id"].transform("size")
        e["sample_size_in_tier"] = e["eligible_in_tier"].map(lambda n: _ceil_share(int(n), share))
        e = e[e["sample_rank"] <= e["sample_size_in_tier"]]
        e["month"] = _mi_date(mi)
        rows.append(e[cols])
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.concat(rows, ignore_index=True)
    for c in ("sample_rank", "eligible_in_tier", "sample_size_in_tier"):
        out[c] = pd.array(out[c], dtype="Int64")
    return out.sort_values(["month", "customer_tier", "sample_rank"]).reset_index(drop=True)


# ----------------------------------------------------------------------------------------------
# mart_channel_conflict / fct_conflict_orders
# ----------------------------------------------------------------------------------------------


def _conflict(ctx: _Ctx) -> tuple[pd.DataFrame, pd.DataFrame]:
    h = ctx.channels_history[["channel_id", "updated_at", "channel_type", "authorized_regions"]].copy()
    h = h.rename(columns={"updated_at": "record_updated_at"})
    p = ctx.purchases[ctx.purchases["channel_id"].isin(h["channel_id"])].copy()
    p = p.sort_values("order_ts", kind="mergesort").reset_index(drop=True)
    p["channel_id"] = p["channel_id"].astype(object)
    h["channel_id"] = h["channel_id"].astype(object)
    if len(p):
        m = pd.merge_asof(
            p,
            h.sort_values("record_updated_at", kind="mergesort"),
            left_on="order_ts",
            right_on="record_updated_at",
            by="channel_id",
            direction="backward",
        )
        # an order that predates every record of its channel is judged by the channel's earliest
        # record
        earliest = (
            h.sort_values(["channel_id", "record_updated_at"], kind="mergesort")
            .drop_duplicates("channel_id")
            .set_index("channel_id")
        )
        miss = m["record_updated_at"].isna()
        for col in ("record_updated_at", "channel_type", "authorized_regions"):
            m[col] = m[col].where(~miss, m["channel_id"].map(earliest[col]))
    else:
        m = p.assign(record_updated_at=pd.Series([], dtype="datetime64[us, UTC]"),
                     channel_type=pd.Series([], dtype=object),
                     authorized_regions=pd.Series([], dtype=object))
    m["regions"] = pd.Series([_norm_regions(v) for v in m["authorized_regions"]], index=m.index, dtype=object)
    m = m[(m["channel_type"] == "partner") & (m["regions"].map(len) > 0)].copy()
    m["ship"] = pd.Series([_norm_region(v) for v in m["ship_region"]], index=m.index, dtype=object)
    m["conflict"] = pd.Series(
        [s is not None and s not in r for s, r in zip(m["ship"], m["regions"], strict=True)],
        index=m.index,
        dtype=bool,
    )

    conf = m[m["conflict"]].sort_values(["order_ts", "order_id"], kind="mergesort")
    fct = pd.DataFrame(
        {
            "order_id": conf["order_id"],
            "channel_id": conf["channel_id"],
            "customer_id": conf["customer_id"],
            "order_ts": conf["order_ts"],
            "order_date": _as_date_col(conf["day"]),
            "month": [_mi_date(x) for x in conf["mi"]],
            "amount": _money_col(conf["cents"]),
            "ship_region": conf["ship"],
            "authorized_regions": conf["regions"].map(";".join),
            "channel_record_updated_at": pd.to_datetime(conf["record_updated_at"], utc=True).astype(
                "datetime64[us, UTC]"
            ),
        }
    ).sort_values("order_id").reset_index(drop=True)

    rows = []
    for (ch, mi), g in m.groupby(["channel_id", "mi"]):
        gc = g[g["conflict"]]
        regions = sorted(set(gc["ship"]))
        rows.append(
            {
                "channel_id": ch,
                "month": _mi_date(mi),
                "partner_orders": len(g),
                "conflict_orders": len(gc),
                "conflict_revenue": _money(int(gc["cents"].sum())),
                "conflict_share": _ratio(len(gc), len(g)),
                "unauthorized_regions": ";".join(regions) if regions else None,
            }
        )
    cols = ["channel_id", "month", "partner_orders", "conflict_orders", "conflict_revenue",
            "conflict_share", "unauthorized_regions"]
    mart = pd.DataFrame(rows, columns=cols)
    mart["partner_orders"] = pd.array(mart["partner_orders"], dtype="Int64")
    mart["conflict_orders"] = pd.array(mart["conflict_orders"], dtype="Int64")
    mart["conflict_share"] = pd.array(mart["conflict_share"], dtype="Float64")
    mart["conflict_revenue"] = mart["conflict_revenue"].astype(object)
    mart["unauthorized_regions"] = mart["unauthorized_regions"].astype(object)
    return mart.sort_values(["channel_id", "month"]).reset_index(drop=True), fct


# ----------------------------------------------------------------------------------------------
# mart_referral_vs_paid
# ----------------------------------------------------------------------------------------------


def _referral_vs_paid(ctx: _Ctx) -> pd.DataFrame:
    cur = ctx.channels_current
    referral = set(cur.loc[cur["sub_type"] == "referral", "channel_id"])
    spend = ctx.spend[~ctx.spend["channel_id"].isin(referral) & (ctx.spend["spend_cents"] > 0)]
    paid_by_month = {int(mi): set(g["channel_id"]) for mi, g in spend.groupby("mi")}
    spend_by_month = spend.groupby("mi")["spend_cents"].sum()
    leads = ctx.leads
    fp = ctx.first_purchases
    rows = []
    for mi in ctx.calendar:
        paid = paid_by_month.get(mi, set())
        coh = leads[leads["cohort_mi"] == mi]
        ref = coh[coh["channel_id"].isin(referral)]
        pl = coh[coh["channel_id"].isin(paid)]
        new = fp[fp["mi"] == mi]
        ref_new = int((new["is_referral"] == True).sum())  # noqa: E712
        paid_new = int(new["channel_id"].isin(paid).sum())
        paid_spend = int(spend_by_month.get(mi, 0))
        rwr = _ratio(int(ref["won"].sum()), len(ref))
        pwr = _ratio(int(pl["won"].sum()), len(pl))
        rows.append(
            {
                "month": _mi_date(mi),
                "referral_leads": len(ref),
                "referral_won": int(ref["won"].sum()),
                "referral_win_rate": rwr,
                "paid_channels": len(paid),
                "paid_leads": len(pl),
                "paid_won": int(pl["won"].sum()),
                "paid_win_rate": pwr,
                "referral_to_paid_ratio": None if rwr is None or pwr is None or pwr == 0 else rwr / pwr,
                "referral_new_customers": ref_new,
                "paid_spend": _money(paid_spend),
                "paid_new_customers": paid_new,
                "paid_cac": _money(_div_cents(paid_spend, paid_new)),
            }
        )
    cols = ["month", "referral_leads", "referral_won", "referral_win_rate", "paid_channels",
            "paid_leads", "paid_won", "paid_win_rate", "referral_to_paid_ratio",
            "referral_new_customers", "paid_spend", "paid_new_customers", "paid_cac"]
    out = pd.DataFrame(rows, columns=cols)
    for c in ("referral_leads", "referral_won", "paid_channels", "paid_leads", "paid_won",
              "referral_new_customers", "paid_new_customers"):
        out[c] = pd.array(out[c], dtype="Int64")
    for c in ("referral_win_rate", "paid_win_rate", "referral_to_paid_ratio"):
        out[c] = pd.array(out[c], dtype="Float64")
    for c in ("paid_spend", "paid_cac"):
        out[c] = out[c].astype(object)
    return out


# ----------------------------------------------------------------------------------------------
# mart_sales_kpis
# ----------------------------------------------------------------------------------------------


def _scope_kpis(p: pd.DataFrame, fp: pd.DataFrame, leads: pd.DataFrame, months: list[int]) -> dict:
    """KPIs per month over one scope of purchases (all channels, or one channel)."""
    rev = p.groupby("mi")["cents"].sum()
    orders = p.groupby("mi").size()
    new = fp.groupby("mi").size()
    cm = p[["customer_id", "mi"]].drop_duplicates()
    # repeat purchases: the month of each customer's first and second purchase in the scope
    nth = p.groupby("customer_id").cumcount()
    first_mi = p.loc[nth == 0, "mi"].astype(int).to_numpy()
    second_mi = p.loc[nth == 1, "mi"].astype(int).to_numpy()
    won = leads[leads["won"]]
    cycles = won.groupby("cohort_mi")["cycle_days"].apply(list)
    out = {}
    for mi in months:
        base = set(cm.loc[cm["mi"].between(mi - 5, mi - 3), "customer_id"])
        later = set(cm.loc[cm["mi"].between(mi - 2, mi), "customer_id"])
        rev_mi = int(rev.get(mi, 0))
        n_orders = int(orders.get(mi, 0))
        rev_prev = int(rev.get(mi - 12, 0))
        n_prev = int(orders.get(mi - 12, 0))
        cyc = cycles.get(mi, [])
        out[mi] = {
            "revenue": rev_mi,
            "orders": n_orders,
            "new_customers": int(new.get(mi, 0)),
            "retention_base": len(base),
            "retained": len(base & later),
            "customers_to_date": int((first_mi <= mi).sum()),
            "repeat_customers_to_date": int((second_mi <= mi).sum()),
            "won_leads": len(cyc),
            "cycle_days_median": _pct_cont(cyc, 0.5),
            "aov": _div_cents(rev_mi, n_orders),
            "aov_year_before": _div_cents(rev_prev, n_prev),
        }
    return out


def _sales_kpis(ctx: _Ctx, nps: pd.DataFrame, kpi: dict) -> pd.DataFrame:
    p, fp, leads, t = ctx.purchases, ctx.first_purchases, ctx.leads, ctx.targets
    nps_all = nps[nps["grain"] == "all"].set_index("mi")
    nps_ch = nps[nps["grain"] == "channel"].set_index(["channel_id", "mi"])

    def nps_of(channel_id, mi):
        try:
            r = nps_all.loc[mi] if channel_id is None else nps_ch.loc[(channel_id, mi)]
        except KeyError:
            return None, None
        if isinstance(r, pd.DataFrame):  # pragma: no cover - the grain key is unique
            r = r.iloc[0]
        nps_v = None if _is_null(r["nps"]) else float(r["nps"])
        csat_v = None if _is_null(r["csat"]) else float(r["csat"])
        return nps_v, csat_v

    scopes: list[tuple[str, str | None, dict, dict]] = []
    all_metrics = _scope_kpis(p, fp, leads, ctx.calendar)
    all_targets = {}
    for mi in ctx.calendar:
        tm = t[t["mi"] == mi]
        rt = tm["revenue_target_cents"].dropna()
        nt = pd.to_numeric(tm["new_customers_target"]).dropna()
        all_targets[mi] = (
            int(rt.sum()) if len(rt) else None,
            int(nt.sum()) if len(nt) else int(kpi["new_customers_target_default"]),
        )
    scopes.append(("all", None, all_metrics, all_targets))
    for ch, tc in t.groupby("channel_id"):
        months = sorted(int(x) for x in tc["mi"])
        metrics = _scope_kpis(
            p[p["channel_id"] == ch], fp[fp["channel_id"] == ch], leads[leads["channel_id"] == ch], months
        )
        targets = {}
        for _, r in tc.iterrows():
            rt = r["revenue_target_cents"]
            nt = r["new_customers_target"]
            targets[int(r["mi"])] = (None if _is_null(rt) else int(rt), None if _is_null(nt) else int(nt))
        scopes.append(("channel", ch, metrics, targets))

    att_t, ret_t, rep_t = kpi["attainment_ok"], kpi["retention_rate_ok"], kpi["repeat_purchase_rate_ok"]
    cyc_t, aov_t, csat_t = kpi["cycle_days_ok"], kpi["aov_growth_yoy_ok"], kpi["csat_ok"]
    rows = []
    for grain, ch, metrics, targets in scopes:
        for mi, k in metrics.items():
            rev_target, new_target = targets[mi]
            aov, aov_prev = k["aov"], k["aov_year_before"]
            nps_v, csat_v = nps_of(ch, mi)
            nps_prev, _ = nps_of(ch, mi - 3)
            row = {
                "month": _mi_date(mi),
                "grain": grain,
                "channel_id": ch,
                "revenue": _money(k["revenue"]),
                "revenue_target": _money(rev_target),
                "attainment": _ratio(k["revenue"], rev_target),
                "attainment_ok": _ge_share(k["revenue"], rev_target, att_t),
                "new_customers": k["new_customers"],
                "new_customers_target": new_target,
                "new_customers_ok": None if new_target is None else k["new_customers"] >= new_target,
                "retention_base": k["retention_base"],
                "retained": k["retained"],
                "retention_rate": _ratio(k["retained"], k["retention_base"]),
                "retention_ok": _ge_share(k["retained"], k["retention_base"], ret_t),
                "customers_to_date": k["customers_to_date"],
                "repeat_customers_to_date": k["repeat_customers_to_date"],
                "repeat_purchase_rate": _ratio(k["repeat_customers_to_date"], k["customers_to_date"]),
                "repeat_purchase_ok": _ge_share(
                    k["repeat_customers_to_date"], k["customers_to_date"], rep_t
                ),
                "won_leads": k["won_leads"],
                "cycle_days_median": k["cycle_days_median"],
                "cycle_days_ok": None
                if k["cycle_days_median"] is None
                else Fraction(k["cycle_days_median"]) <= cyc_t,
                "orders": k["orders"],
                "avg_order_value": _money(aov),
                "avg_order_value_year_before": _money(aov_prev),
                "aov_growth_yoy": None if aov is None or aov_prev is None else aov / aov_prev - 1,
                "aov_growth_ok": None
                if aov is None or aov_prev is None
                else Fraction(aov) >= (1 + aov_t) * Fraction(aov_prev),
                "csat": csat_v,
                "csat_ok": None if csat_v is None else Fraction(csat_v) >= csat_t,
                "nps": nps_v,
                "nps_change_qoq": None if nps_v is None or nps_prev is None else nps_v - nps_prev,
            }
            oks = ("attainment_ok", "new_customers_ok", "retention_ok", "repeat_purchase_ok",
                   "cycle_days_ok", "aov_growth_ok", "csat_ok")
            row["kpis_met"] = sum(1 for o in oks if row[o] is True)
            rows.append(row)
    out = pd.DataFrame(rows)
    ints = ("new_customers", "new_customers_target", "retention_base", "retained", "customers_to_date",
            "repeat_customers_to_date", "won_leads", "orders", "kpis_met")
    floats = ("attainment", "retention_rate", "repeat_purchase_rate", "cycle_days_median",
              "aov_growth_yoy", "csat", "nps", "nps_change_qoq")
    flags = ("attainment_ok", "new_customers_ok", "retention_ok", "repeat_purchase_ok", "cycle_days_ok",
             "aov_growth_ok", "csat_ok")
    for c in ints:
        out[c] = pd.array(out[c], dtype="Int64")
    for c in floats:
        out[c] = pd.array(out[c], dtype="Float64")
    for c in flags:
        out[c] = pd.array(out[c], dtype="boolean")
    for c in ("revenue", "revenue_target", "avg_order_value", "avg_order_value_year_before", "channel_id"):
        out[c] = out[c].astype(object).where(out[c].notna(), None)
    out["_k"] = out["channel_id"].fillna("")
    return out.sort_values(["month", "grain", "_k"]).drop(columns="_k").reset_index(drop=True)


# ----------------------------------------------------------------------------------------------
# entry point
# ----------------------------------------------------------------------------------------------


def compute_care_marts(
    raw: dict[str, pd.DataFrame],
    seeds_dir: str | Path,
    tz: str = "Asia/Shanghai",
    core: dict[str, pd.DataFrame] | None = None,
) -> dict[str, pd.DataFrame]:
    """Compute the customer-care and sales-management marts from the raw tables (see the module docstring and
    docs/mart_rules.md for the readings)."""
    seeds_dir = Path(seeds_dir)
    care = _thresholds(seeds_dir, "care_thresholds", "threshold_name")
    kpi = _thresholds(seeds_dir, "kpi_targets", "kpi_name")
    offers_df = _read_seed(seeds_dir, "win_back_offers")
    offers = dict(zip(offers_df["customer_tier"], offers_df["win_back_offer"], strict=True))
    tiers_seed = _read_seed(seeds_dir, "loyalty_tiers")

    ctx = _context(raw, tz)
    rfm, nps = _core_frames(core, raw, seeds_dir, tz)

    sla = _complaint_sla(ctx, care)
    sla_monthly = _sla_monthly(sla)
    conflict, fct_conflict = _conflict(ctx)
    marts = {
        "mart_churn_warning": _churn_warning(ctx, rfm, care, offers),
        "mart_loyalty": _loyalty(ctx, tiers_seed),
        "mart_complaint_sla": sla.drop(columns=["_mi", "_resp_due", "_res_due"]),
        "mart_complaint_sla_monthly": sla_monthly,
        "mart_interview_sample": _interview_sample(ctx, rfm, care),
        "mart_channel_conflict": conflict,
        "fct_conflict_orders": fct_conflict,
        "mart_referral_vs_paid": _referral_vs_paid(ctx),
        "mart_sales_kpis": _sales_kpis(ctx, nps, kpi),
    }
    return {name: _finish(df) for name, df in marts.items()}


def _finish(df: pd.DataFrame) -> pd.DataFrame:
    """Text, money and date columns as object columns with None for NULL (as raw_io.load_mart)."""
    df = df.reset_index(drop=True).copy()
    for c in df.columns:
        if isinstance(df[c].dtype, pd.StringDtype) or df[c].dtype == object:
            df[c] = pd.Series([None if _is_null(v) else v for v in df[c]], index=df.index, dtype=object)
    return df


def as_of_date(raw: dict[str, pd.DataFrame]) -> date:
    """D of the raw tables (max partition_date of raw.ingest_log)."""
    return _as_of(raw).date()

