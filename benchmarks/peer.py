"""The pandas peer: the four core marts from the landing files, the way an analyst would write them.

    python -m benchmarks.peer --landing DIR --as-of YYYY-MM-DD --out DIR

Plain vectorised pandas (pd.read_csv per file, sort + drop_duplicates for the latest record,
groupby / merge for the figures), no DuckDB. Money is carried as whole cents (int64) so sums and
roundings are exact, and written as float64 rounded to the cent. It writes `<mart>.parquet` into
--out. Same assumptions as the floor: clean CSV files (--defect-rate 0). Definitions: the models'
(models/core, models/marts) and docs/mart_rules.md; benchmarks/run.py checks the result equals the
published marts.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"
AWARE = r"(?:Z|[+-]\d\d:?\d\d)$"


# -- reading -------------------------------------------------------------------------------------------
def read_feed(landing: Path, feed: str, columns: list[str], as_of: pd.Timestamp) -> pd.DataFrame:
    """Every record of a feed that arrived by as_of (text values, trimmed, '' -> NaN), with the arrival
    day, the file and the line (the contract's tie-breakers)."""
    frames = []
    for day_dir in sorted((landing / feed).iterdir()):
        if pd.Timestamp(day_dir.name) > as_of:
            continue
        for path in sorted(day_dir.glob("*.csv")):
            df = pd.read_csv(path, dtype=str, usecols=lambda c: c in columns, keep_default_na=False)
            df["arrival_day"] = pd.Timestamp(day_dir.name)
            df["file"] = path.name
            df["line"] = np.arange(len(df))
            frames.append(df)
    df = pd.concat(frames, ignore_index=True)
    for c in columns:
        df[c] = df[c].str.strip().replace("", np.nan) if c in df else np.nan
    return df


def latest(df: pd.DataFrame, key: list[str], by_updated_at: bool = False) -> pd.DataFrame:
    order = (["updated_at"] if by_updated_at else []) + ["arrival_day", "file", "line"]
    return df.sort_values(key + order).drop_duplicates(key, keep="last")


def to_utc(text: pd.Series, tz: str) -> pd.Series:
    """ISO timestamps with an offset, 'Z' or none (then local time in tz), as UTC."""
    aware = text.str.contains(AWARE, regex=True, na=False)
    out = pd.to_datetime(text.where(aware), utc=True, format="ISO8601")
    naive = text.where(~aware & text.notna())
    if naive.notna().any():
        local = pd.to_datetime(naive, format="ISO8601").dt.tz_localize(tz).dt.tz_convert("UTC")
        out = out.where(aware, local)
    return out


def local_day(ts: pd.Series, tz: str) -> pd.Series:
    return ts.dt.tz_convert(tz).dt.tz_localize(None).dt.normalize()


def month_of(days: pd.Series) -> pd.Series:
    return days.dt.to_period("M").dt.to_timestamp()


def to_cents(text: pd.Series) -> pd.Series:
    return (pd.to_numeric(text) * 100).round().astype("Int64")


# -- exact helpers -------------------------------------------------------------------------------------
def div_half_away(num: pd.Series, den: pd.Series) -> pd.Series:
    """num / den on whole numbers, rounded halves away from zero; NA when den <= 0."""
    num, den = num.astype("Int64"), den.astype("Int64")
    q = np.sign(num) * ((2 * num.abs() + den) // (2 * den))
    return q.where(den > 0)


def money(cents: pd.Series) -> pd.Series:
    return cents.astype("Float64") / 100


def ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    return num.astype("float64") / den.astype("float64").replace(0, np.nan)


def less(a: pd.Series, b: pd.Series) -> pd.Series:
    """a < b with SQL NULLs."""
    out = (a < b).astype("boolean")
    out[a.isna() | b.isna()] = pd.NA
    return out


def scores(values: pd.Series, descending: bool = False) -> pd.Series:
    """ceil(5 * cume_dist()): k = rows up to and tied with this one in the order, n = rows."""
    k = values.rank(method="max", ascending=not descending).astype("int64")
    n = len(values)
    return (5 * k + n - 1) // n


def seeds() -> dict:
    thresholds = pd.read_csv(SEEDS_DIR / "mart_thresholds.csv", dtype=str)
    return {
        "t": {n: Fraction(v) for n, v in zip(thresholds.threshold_name, thresholds.threshold_value, strict=True)},
        "benchmarks": pd.read_csv(SEEDS_DIR / "channel_type_benchmarks.csv")[
            ["channel_type", "visit_to_order_rate", "win_rate"]
        ],
        "segments": pd.read_csv(SEEDS_DIR / "rfm_segment_map.csv"),
        "stages": pd.read_csv(SEEDS_DIR / "lead_stage_order.csv"),
    }


# -- inputs ----------------------------------------------------------------------------------------------
def purchases(landing: Path, D: pd.Timestamp, tz: str) -> pd.DataFrame:
    cols = ["order_id", "customer_id", "channel_id", "order_ts", "amount", "status", "updated_at"]
    o = read_feed(landing, "orders", cols, D)
    o["updated_at"] = to_utc(o["updated_at"], tz)
    o = latest(o, ["order_id"], by_updated_at=True)
    o = o[o["status"] == "paid"].copy()
    o["order_ts"] = to_utc(o["order_ts"], tz)
    o["order_date"] = local_day(o["order_ts"], tz)
    o = o[o["order_date"] <= D]
    o["month"] = month_of(o["order_date"])
    o["cents"] = to_cents(o["amount"]).astype("int64")
    return o[["order_id", "customer_id", "channel_id", "order_ts", "order_date", "month", "cents"]]


def channel_types(landing: Path, D: pd.Timestamp, tz: str) -> pd.Series:
    ch = read_feed(landing, "channels", ["channel_id", "channel_type", "updated_at"], D)
    ch["updated_at"] = to_utc(ch["updated_at"], tz)
    return latest(ch, ["channel_id"], by_updated_at=True).set_index("channel_id")["channel_type"]


def activity(landing: Path, D: pd.Timestamp) -> pd.DataFrame:
    cols = ["activity_date", "channel_id", "visits", "avg_visit_seconds", "inquiries", "carts", "spend"]
    a = latest(read_feed(landing, "channel_activity", cols, D), ["activity_date", "channel_id"])
    a["activity_date"] = pd.to_datetime(a["activity_date"])
    a = a[a["activity_date"] <= D].copy()
    for c in ("visits", "inquiries", "carts"):
        a[c] = pd.to_numeric(a[c]).astype("Int64")
    a["avg_visit_seconds"] = pd.to_numeric(a["avg_visit_seconds"])
    a["spend"] = to_cents(a["spend"])
    timed = a["visits"].notna() & a["avg_visit_seconds"].notna()
    a["visit_seconds"] = (a["visits"].astype("float64") * a["avg_visit_seconds"]).where(timed)
    a["timed_visits"] = a["visits"].where(timed)
    a["month"] = month_of(a["activity_date"])
    return (
        a.groupby(["channel_id", "month"])
        .agg(
            visits=("visits", "sum"),
            inquiries=("inquiries", "sum"),
            carts=("carts", "sum"),
            spend=("spend", "sum"),
            visit_seconds=("visit_seconds", "sum"),
            timed_visits=("timed_visits", "sum"),
        )
        .reset_index()
    )


def lead_cohorts(landing: Path, D: pd.Timestamp, tz: str, stages: pd.DataFrame) -> pd.DataFrame:
    leads = latest(read_feed(landing, "leads", ["lead_id", "stage", "channel_id", "stage_ts"], D), ["lead_id", "stage"])
    leads["stage_ts"] = to_utc(leads["stage_ts"], tz)
    leads["stage_date"] = local_day(leads["stage_ts"], tz)
    leads = leads[leads["stage_date"] <= D].merge(stages, on="stage")
    leads = leads.sort_values(["lead_id", "stage_ts", "stage_order"])
    per_lead = leads.groupby("lead_id").agg(
        channel_id=("channel_id", "first"), first_date=("stage_date", "first")
    )
    created = leads[leads["stage"] == "created"].set_index("lead_id")["stage_date"]
    per_lead["created_date"] = created.reindex(per_lead.index).fillna(per_lead["first_date"])
    funnel = leads[leads["is_funnel_stage"]]
    per_lead["furthest"] = funnel.groupby("lead_id")["stage_order"].max().reindex(per_lead.index)
    won = leads[leads["stage"] == "won"].set_index("lead_id")["stage_date"]
    per_lead["cycle_days"] = (won.reindex(per_lead.index) - per_lead["created_date"]).dt.days
    order = stages.set_index("stage")["stage_order"]
    per_lead["month"] = month_of(per_lead["created_date"])
    for stage in ("qualified", "proposal", "won"):
        per_lead[f"reached_{stage}"] = per_lead["furthest"] >= order[stage]
    return (
        per_lead.groupby(["channel_id", "month"])
        .agg(
            leads_created=("furthest", "size"),
            leads_qualified=("reached_qualified", "sum"),
            leads_proposal=("reached_proposal", "sum"),
            leads_won=("reached_won", "sum"),
            cycle_days_median=("cycle_days", lambda s: s.quantile(0.5)),
            cycle_days_p90=("cycle_days", lambda s: s.quantile(0.9)),
        )
        .reset_index()
    )


# -- the marts -----------------------------------------------------------------------------------------
def customer_rfm(p: pd.DataFrame, D: pd.Timestamp, s: dict) -> pd.DataFrame:
    days = p.groupby(["customer_id", "order_date"]).agg(orders=("order_id", "size"), cents=("cents", "sum"))
    days = days.reset_index().sort_values(["customer_id", "order_date"])
    recent = days[days["order_date"] >= D - pd.Timedelta(days=364)]
    c = days.groupby("customer_id").agg(
        first_purchase_date=("order_date", "first"),
        last_purchase_date=("order_date", "last"),
        frequency=("orders", "sum"),
        monetary=("cents", "sum"),
        first_day_cents=("cents", "first"),
        purchase_days=("orders", "size"),
    )
    c["revenue_365d"] = recent.groupby("customer_id")["cents"].sum().reindex(c.index, fill_value=0)
    c = c.reset_index()
    c["as_of_date"] = D
    c["recency_days"] = (D - c["last_purchase_date"]).dt.days
    c["avg_order_value"] = div_half_away(c["monetary"], c["frequency"])
    c["repeat_frequency"] = c["purchase_days"] - 1
    c["recency_btyd"] = (c["last_purchase_date"] - c["first_purchase_date"]).dt.days
    c["t_days"] = (D - c["first_purchase_date"]).dt.days
    c["repeat_monetary_avg"] = div_half_away(c["monetary"] - c["first_day_cents"], c["repeat_frequency"]).fillna(0)
    c["r_score"] = scores(c["recency_days"], descending=True)
    c["f_score"] = scores(c["frequency"])
    c["m_score"] = scores(c["monetary"])
    c["fm_score"] = (c["f_score"] + c["m_score"] + 1) // 2
    c = c.merge(s["segments"], on=["r_score", "fm_score"], how="left")
    strategic = s["t"]["strategic_revenue_365d"] * 100
    c["customer_tier"] = np.where(
        c["revenue_365d"] * strategic.denominator >= strategic.numerator,
        "strategic",
        np.where(c["f_score"] >= s["t"]["growth_min_f_score"], "growth", "potential"),
    )
    for col in ("monetary", "avg_order_value", "repeat_monetary_avg", "revenue_365d"):
        c[col] = money(c[col])
    return c[
        ["customer_id", "as_of_date", "recency_days", "frequency", "monetary", "avg_order_value",
         "first_purchase_date", "last_purchase_date", "repeat_frequency", "recency_btyd", "t_days",
         "repeat_monetary_avg", "r_score", "f_score", "m_score", "fm_score", "rfm_segment",
         "customer_tier", "revenue_365d"]
    ]


def channel_months(act: pd.DataFrame, p: pd.DataFrame, cohorts: pd.DataFrame, types: pd.Series) -> pd.DataFrame:
    rows = pd.concat([act[["channel_id", "month"]], p[["channel_id", "month"]], cohorts[["channel_id", "month"]]])
    rows = rows.drop_duplicates().reset_index(drop=True)
    rows["month_end"] = rows["month"] + pd.offsets.MonthEnd(0)
    rows["channel_type"] = rows["channel_id"].map(types).fillna("unknown")
    return rows


def channel_funnel(rows: pd.DataFrame, act: pd.DataFrame, p: pd.DataFrame, cohorts: pd.DataFrame,
                   s: dict) -> pd.DataFrame:
    sales = p.groupby(["channel_id", "month"]).agg(orders=("order_id", "size"), buyers=("customer_id", "nunique"))
    second = p.sort_values("order_date").groupby(["customer_id", "channel_id"])["order_date"].nth(1)
    second = p.loc[second.index, ["customer_id", "channel_id", "order_date"]].rename(columns={"order_date": "second"})
    buyers = p[["channel_id", "month", "customer_id"]].drop_duplicates().merge(second, on=["customer_id", "channel_id"])
    buyers = buyers[buyers["second"] <= buyers["month"] + pd.offsets.MonthEnd(0)]
    repeat = buyers.groupby(["channel_id", "month"]).size().rename("repeat_buyers")
    f = (
        rows.merge(act, on=["channel_id", "month"], how="left")
        .merge(sales.reset_index(), on=["channel_id", "month"], how="left")
        .merge(repeat.reset_index(), on=["channel_id", "month"], how="left")
        .merge(cohorts, on=["channel_id", "month"], how="left")
    )
    for c in ("visits", "inquiries", "carts", "orders", "buyers", "repeat_buyers", "leads_created",
              "leads_qualified", "leads_proposal", "leads_won"):
        f[c] = f[c].fillna(0).astype("int64")
    f["avg_visit_seconds"] = ratio(f["visit_seconds"], f["timed_visits"])
    f["inquiry_rate"] = ratio(f["inquiries"], f["visits"])
    f["cart_rate"] = ratio(f["carts"], f["visits"])
    f["close_rate"] = ratio(f["orders"], f["inquiries"])
    f["visit_to_order_rate"] = ratio(f["orders"], f["visits"])
    f["repeat_rate"] = ratio(f["repeat_buyers"], f["buyers"])
    f["qualified_rate"] = ratio(f["leads_qualified"], f["leads_created"])
    f["proposal_rate"] = ratio(f["leads_proposal"], f["leads_qualified"])
    f["won_rate"] = ratio(f["leads_won"], f["leads_proposal"])
    f["win_rate"] = ratio(f["leads_won"], f["leads_created"])
    target = float(s["t"]["cycle_target_days"])
    f["cycle_within_target"] = ~less(pd.Series(target, index=f.index), f["cycle_days_median"].astype("float64"))
    bench = f[["channel_type"]].merge(s["benchmarks"], on="channel_type", how="left")
    f["below_benchmark"] = less(f["visit_to_order_rate"], bench["visit_to_order_rate"]) | less(
        f["win_rate"], bench["win_rate"]
    )
    return f[
        ["channel_id", "month", "channel_type", "visits", "avg_visit_seconds", "inquiries", "carts", "orders",
         "buyers", "repeat_buyers", "inquiry_rate", "cart_rate", "close_rate", "visit_to_order_rate",
         "repeat_rate", "leads_created", "leads_qualified", "leads_proposal", "leads_won", "qualified_rate",
         "proposal_rate", "won_rate", "win_rate", "cycle_days_median", "cycle_days_p90",
         "cycle_within_target", "below_benchmark"]
    ]


def channel_health(rows: pd.DataFrame, act: pd.DataFrame, p: pd.DataFrame, s: dict) -> pd.DataFrame:
    first = p.sort_values(["order_ts", "order_id"]).drop_duplicates("customer_id")
    first = first[["customer_id", "channel_id", "order_date", "month"]]
    sales = p.groupby(["channel_id", "month"]).agg(orders=("order_id", "size"), revenue=("cents", "sum"))
    new = first.groupby(["channel_id", "month"]).size().rename("new_customers")
    # CLV cohort of a row: customers acquired through the channel by the month's end; their revenue
    # through any channel dated month_end - 364 .. month_end (never before their first purchase).
    acquired = first.groupby(["channel_id", "order_date"]).size().rename("customers").reset_index()
    spent = (
        p[["customer_id", "order_date", "cents"]]
        .merge(first[["customer_id", "channel_id"]], on="customer_id")
        .groupby(["channel_id", "order_date"])["cents"].sum().reset_index()
    )
    ends = rows[["channel_id", "month", "month_end"]]
    a = ends.merge(acquired, on="channel_id")
    cohort = a[a["order_date"] <= a["month_end"]].groupby(["channel_id", "month"])["customers"].sum()
    r = ends.merge(spent, on="channel_id")
    in_window = (r["order_date"] <= r["month_end"]) & (r["order_date"] >= r["month_end"] - pd.Timedelta(days=364))
    cohort_revenue = r[in_window].groupby(["channel_id", "month"])["cents"].sum()
    f = (
        rows.merge(act[["channel_id", "month", "spend", "visits"]], on=["channel_id", "month"], how="left")
        .merge(sales.reset_index(), on=["channel_id", "month"], how="left")
        .merge(new.reset_index(), on=["channel_id", "month"], how="left")
        .merge(cohort.rename("clv_cohort_customers").reset_index(), on=["channel_id", "month"], how="left")
        .merge(cohort_revenue.rename("clv_cohort_revenue").reset_index(), on=["channel_id", "month"], how="left")
    )
    for c in ("spend", "visits", "orders", "revenue", "new_customers", "clv_cohort_customers", "clv_cohort_revenue"):
        f[c] = f[c].fillna(0).astype("int64")
    t = s["t"]
    f["cac"] = div_half_away(f["spend"], f["new_customers"])
    f["roi"] = ratio(f["revenue"], f["spend"])
    f["conversion"] = ratio(f["orders"], f["visits"])
    clv_factor = t["gross_margin"] * t["expected_lifetime_years"]
    f["clv"] = div_half_away(
        f["clv_cohort_revenue"] * clv_factor.numerator, f["clv_cohort_customers"] * clv_factor.denominator
    )
    share = t["cac_clv_ratio"]
    f["cac_over_30pct_clv"] = (f["cac"] * share.denominator > f["clv"] * share.numerator).astype("boolean")
    f = f.sort_values(["channel_id", "month"]).reset_index(drop=True)
    flagged = f[f["cac_over_30pct_clv"].fillna(False)]
    month_number = flagged["month"].dt.year * 12 + flagged["month"].dt.month
    run = month_number - flagged.groupby("channel_id").cumcount()
    f["cac_trigger_streak"] = flagged.groupby([flagged["channel_id"], run]).cumcount().add(1)
    f["cac_trigger_streak"] = f["cac_trigger_streak"].fillna(0).astype("int64")
    f["optimisation_required"] = f["cac_trigger_streak"] >= t["cac_trigger_months"]
    bench = f[["channel_type"]].merge(s["benchmarks"], on="channel_type", how="left")
    f["conversion_below_benchmark"] = less(f["conversion"], bench["visit_to_order_rate"])
    with_roi = f[f["roi"].notna()]
    rank = with_roi.groupby("month")["roi"].rank(method="min", ascending=False)
    n = with_roi.groupby("month")["roi"].transform("size")
    top = t["roi_top_share"]
    f["roi_top_20pct"] = (rank <= (n * top.numerator + top.denominator - 1) // top.denominator)
    f["roi_top_20pct"] = f["roi_top_20pct"].astype("boolean").fillna(False)
    for c in ("spend", "cac", "revenue", "clv_cohort_revenue", "clv"):
        f[c] = money(f[c])
    return f[
        ["channel_id", "month", "channel_type", "spend", "new_customers", "cac", "revenue", "roi", "orders",
         "visits", "conversion", "clv_cohort_customers", "clv_cohort_revenue", "clv", "cac_over_30pct_clv",
         "cac_trigger_streak", "optimisation_required", "conversion_below_benchmark", "roi_top_20pct"]
    ]


def nps(landing: Path, D: pd.Timestamp, tz: str, rfm: pd.DataFrame, s: dict) -> pd.DataFrame:
    cols = ["response_id", "customer_id", "channel_id", "submitted_at", "nps_score", "csat_score"]
    a = latest(read_feed(landing, "surveys", cols, D), ["response_id"])
    a["submitted_at"] = to_utc(a["submitted_at"], tz)
    a["submitted_date"] = local_day(a["submitted_at"], tz)
    a = a[a["submitted_date"] <= D].copy()
    a["month"] = month_of(a["submitted_date"])
    a["nps_score"] = pd.to_numeric(a["nps_score"])
    a["csat_score"] = pd.to_numeric(a["csat_score"])
    a = a.sort_values(["submitted_at", "response_id"], ascending=False)
    per_customer = a.drop_duplicates(["customer_id", "month"])
    per_channel = a[a["channel_id"].notna()].drop_duplicates(["customer_id", "month", "channel_id"])
    known = set(read_feed(landing, "customers", ["customer_id"], D)["customer_id"])
    tier = rfm.set_index("customer_id")["customer_tier"]
    tiers = per_customer["customer_id"].map(tier).where(per_customer["customer_id"].isin(known)).fillna("potential")
    counted = pd.concat([
        per_channel.assign(grain="channel", grain_key=per_channel["channel_id"], customer_tier=None),
        per_customer.assign(grain="all", grain_key="all", channel_id=None, customer_tier=None),
        per_customer.assign(grain="tier", grain_key=tiers, channel_id=None, customer_tier=tiers),
    ])
    counted["promoter"] = counted["nps_score"] >= 9
    counted["passive"] = counted["nps_score"].between(7, 8)
    counted["detractor"] = counted["nps_score"] <= 6
    counted["satisfied"] = counted["csat_score"] >= 4
    m = (
        counted.groupby(["grain", "grain_key", "month"])
        .agg(
            channel_id=("channel_id", "first"),
            customer_tier=("customer_tier", "first"),
            responses=("nps_score", "size"),
            promoters=("promoter", "sum"),
            passives=("passive", "sum"),
            detractors=("detractor", "sum"),
            csat_satisfied=("satisfied", "sum"),
            csat_answers=("csat_score", "count"),
        )
        .reset_index()
    )
    n = m["responses"].astype("float64")
    m["nps"] = (100 * (m["promoters"] - m["detractors"])).astype("float64") / n
    ps, ds = m["promoters"] / n, m["detractors"] / n
    m["nps_moe_95"] = 100 * 1.96 * np.sqrt((ps + ds - (ps - ds) * (ps - ds)) / n)
    m["low_sample"] = m["responses"] < float(s["t"]["nps_low_sample"])
    m["csat"] = ratio(m["csat_satisfied"], m["csat_answers"])
    previous = m[["grain", "grain_key", "month", "nps"]].assign(month=m["month"] + pd.DateOffset(months=1))
    m = m.merge(previous, on=["grain", "grain_key", "month"], how="left", suffixes=("", "_previous"))
    m["nps_change"] = m["nps"] - m["nps_previous"]
    return m[
        ["grain", "grain_key", "channel_id", "customer_tier", "month", "responses", "promoters", "passives",
         "detractors", "nps", "nps_moe_95", "low_sample", "csat", "nps_change"]
    ]


def run_peer(landing: Path, as_of: date, out: Path) -> float:
    started = time.perf_counter()
    landing, out = Path(landing), Path(out)
    tz = os.environ.get("SALESMP_TZ") or "Asia/Shanghai"
    D = pd.Timestamp(as_of)
    s = seeds()
    p = purchases(landing, D, tz)
    types = channel_types(landing, D, tz)
    act = activity(landing, D)
    cohorts = lead_cohorts(landing, D, tz, s["stages"])
    rows = channel_months(act, p, cohorts, types)
    rfm = customer_rfm(p, D, s)
    marts = {
        "mart_customer_rfm": rfm,
        "mart_channel_funnel": channel_funnel(rows, act, p, cohorts, s),
        "mart_channel_health": channel_health(rows, act, p, s),
        "mart_nps": nps(landing, D, tz, rfm, s),
    }
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in marts.items():
        frame.to_parquet(out / f"{name}.parquet", index=False)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peer", description=__doc__.splitlines()[0])
    parser.add_argument("--landing", required=True, type=Path)
    parser.add_argument("--as-of", required=True, type=date.fromisoformat, help="last arrival day read (D)")
    parser.add_argument("--out", required=True, type=Path, help="folder for <mart>.parquet")
    args = parser.parse_args(argv)
    seconds = run_peer(args.landing, args.as_of, args.out)
    print(f"peer: four marts as of {args.as_of} in {args.out} ({seconds:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
