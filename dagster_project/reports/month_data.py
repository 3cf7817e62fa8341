"""The rows of one report month, read from the serving database only (the BI contract), read-only.

Monthly marts are read by their `month` column. The snapshot marts describe the state as of D (the
as-of date of the build): `mart_churn_warning` is kept for m0, the last complete month as of D (its
`month` column), and `mart_loyalty` for D itself, so a report shows them only for the months they
describe (see docs/reports.md).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd

from dagster_project.config import PROJECT_ROOT
from dagster_project.publish.coverage import undelivered_feeds

SEEDS_DIR = PROJECT_ROOT / "seeds"
NPS_TREND_MONTHS = 12


def previous_month(month: date) -> date:
    return (month.replace(day=1) - timedelta(days=1)).replace(day=1)


def month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def last_complete_month(as_of: date) -> date:
    """m0 of mart_churn_warning: the month of D when D is its last day, else the month before."""
    return as_of.replace(day=1) if month_end(as_of) == as_of else previous_month(as_of)


def seed_value(seed: str, name: str) -> Decimal:
    """A threshold from a dbt seed (`seeds/<seed>.csv`, first column the name, second the value)."""
    with (SEEDS_DIR / f"{seed}.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.reader(fh):
            if row and row[0] == name:
                return Decimal(row[1])
    raise KeyError(f"{name} is not in seed {seed}")


@dataclass
class MonthData:
    month: date
    previous: date
    as_of: date | None
    build_id: str | None
    published_at: str | None
    channels: pd.DataFrame
    health: pd.DataFrame
    health_previous: pd.DataFrame
    funnel: pd.DataFrame
    funnel_previous: pd.DataFrame
    conflict: pd.DataFrame
    conflict_previous: pd.DataFrame
    sla: pd.DataFrame
    sla_previous: pd.DataFrame
    kpis: pd.DataFrame
    kpis_previous: pd.DataFrame
    nps: pd.DataFrame
    rfm: pd.DataFrame
    rfm_previous: pd.DataFrame
    rfm_source: tuple[str, dict]  # a messages.py key and its figures
    churn: pd.DataFrame
    loyalty: pd.DataFrame
    notes: dict[str, tuple[str, dict]] = field(default_factory=dict)  # section: (messages key, figures)
    undelivered: frozenset[str] = frozenset()

    def channel_label(self, channel_id: str) -> str:
        """A channel as the charts and sentences name it: its name as the master delivers it, with the
        id only when two current channels share the name; the id alone when the master has no name."""
        names = dict(zip(self.channels["channel_id"], self.channels["channel_name"], strict=False))
        name = names.get(channel_id)
        if name is None or pd.isna(name) or not str(name).strip():
            return str(channel_id)
        shared = int((self.channels["channel_name"] == name).sum()) > 1
        return f"{name} {channel_id}" if shared else str(name)

    def channel_labels(self, ids) -> list[str]:
        return [self.channel_label(c) for c in ids]

    @property
    def has_data(self) -> bool:
        monthly = [self.health, self.funnel, self.conflict, self.sla, self.kpis, self.rfm, self.churn]
        return any(not df.empty for df in monthly) or not self.nps[self.nps["month"] == self.month].empty


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    df = con.execute(sql, params or []).df()
    for col in df.columns:
        if col == "month" or col.endswith("_date"):
            df[col] = pd.to_datetime(df[col]).dt.date
    return df


def read_month(serving: Path, month: date) -> MonthData:
    """Everything both reports of `month` show, from the serving database opened read-only."""
    month = month.replace(day=1)
    prev = previous_month(month)
    con = duckdb.connect(str(serving), read_only=True)
    try:
        as_of = con.execute(
            "select max(as_of_date) from (select as_of_date from mart_customer_tiers "
            "union all select as_of_date from mart_customer_rfm)"
        ).fetchone()[0]
        log = con.execute(
            "select build_id, cast(published_at as varchar) from publish_log order by published_at desc limit 1"
        ).fetchone() or (None, None)
        two = [month, prev]
        by_month = "where month = ? "
        both = "where month in (?, ?) "
        health = _rows(con, f"select * from mart_channel_health {both} order by channel_id", two)
        funnel = _rows(con, f"select * from mart_channel_funnel {both} order by channel_id", two)
        conflict = _rows(con, f"select * from mart_channel_conflict {both} order by channel_id", two)
        sla = _rows(con, f"select * from mart_complaint_sla_monthly {both} order by grain, channel_id", two)
        kpis = _rows(con, f"select * from mart_sales_kpis {both} order by grain, channel_id", two)
        first_trend = month
        for _ in range(NPS_TREND_MONTHS - 1):
            first_trend = previous_month(first_trend)
        nps = _rows(
            con,
            "select * from mart_nps where grain in ('all', 'tier') and month between ? and ? "
            "order by grain, grain_key, month",
            [first_trend, month],
        )
        channels = _rows(
            con, "select channel_id, channel_name, channel_type from dim_channels where is_current order by 1"
        )
        notes: dict[str, tuple[str, dict]] = {}
        undelivered = frozenset(undelivered_feeds(con) or ())
        # RFM as of the month's end: the history for complete months, the current mart for the month of D.
        if as_of is not None and month_end(month) <= as_of:
            rfm = _rows(con, f"select * from mart_customer_rfm_history {by_month}", [month])
            rfm_source = ("rfm.month_end", {"day": month_end(month)})
        elif as_of is not None and month == as_of.replace(day=1):
            rfm = _rows(con, "select * from mart_customer_rfm")
            rfm_source = ("rfm.month_to_date", {"as_of": as_of})
        else:
            rfm = _rows(con, "select * from mart_customer_rfm where false")
            rfm_source = ("rfm.none", {})
        rfm_previous = _rows(con, f"select * from mart_customer_rfm_history {by_month}", [prev])
        churn = _rows(con, f"select * from mart_churn_warning {by_month}", [month])
        loyalty = _rows(con, "select * from mart_loyalty where false")
        if as_of is not None:
            m0 = last_complete_month(as_of)
            if churn.empty:
                notes["churn"] = ("note.churn_elsewhere", {"as_of": as_of, "m0": f"{m0:%Y-%m}"})
            if month in (m0, as_of.replace(day=1)):
                loyalty = _rows(con, "select * from mart_loyalty")
            else:
                notes["loyalty"] = (
                    "note.loyalty_elsewhere",
                    {"as_of": as_of, "m0": f"{m0:%Y-%m}", "d_month": f"{as_of:%Y-%m}"},
                )
    finally:
        con.close()

    def split(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        return (df[df["month"] == month].reset_index(drop=True), df[df["month"] == prev].reset_index(drop=True))

    health_m, health_p = split(health)
    funnel_m, funnel_p = split(funnel)
    conflict_m, conflict_p = split(conflict)
    sla_m, sla_p = split(sla)
    kpis_m, kpis_p = split(kpis)
    return MonthData(
        month=month,
        previous=prev,
        as_of=as_of,
        build_id=log[0],
        published_at=log[1],
        channels=channels,
        health=health_m,
        health_previous=health_p,
        funnel=funnel_m,
        funnel_previous=funnel_p,
        conflict=conflict_m,
        conflict_previous=conflict_p,
        sla=sla_m,
        sla_previous=sla_p,
        kpis=kpis_m,
        kpis_previous=kpis_p,
        nps=nps,
        rfm=rfm,
        rfm_previous=rfm_previous,
        rfm_source=rfm_source,
        churn=churn,
        loyalty=loyalty,
        notes=notes,
        undelivered=undelivered,
    )


def flag(series: pd.Series) -> pd.Series:
    """A boolean mart column with NULL read as not flagged."""
    return series.astype("boolean").fillna(False).astype(bool)
