"""The written summary of each report: what changed against the previous month, in short sentences,
in the report's language (messages.py).

Every sentence reads a flag or a figure the marts already computed, and every threshold it names
comes from the seeds (`thresholds`); nothing here re-derives a business rule or retypes a number.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from dagster_project.reports.messages import join, money, percent, text, tier_name
from dagster_project.reports.month_data import MonthData, flag, seed_value

KPI_FLAGS = (
    "attainment_ok",
    "new_customers_ok",
    "retention_ok",
    "repeat_purchase_ok",
    "cycle_days_ok",
    "aov_growth_ok",
    "csat_ok",
)


def thresholds() -> dict[str, str]:
    """The seed thresholds the sentences and chart labels name, as the reports print them."""
    response_minutes = int(seed_value("care_thresholds", "response_sla_minutes"))
    return {
        "ratio": percent(seed_value("mart_thresholds", "cac_clv_ratio")),
        "months": str(int(seed_value("mart_thresholds", "cac_trigger_months"))),
        "share": percent(seed_value("mart_thresholds", "roi_top_share")),
        "streak": str(int(seed_value("care_thresholds", "churn_streak_months"))),
        "decline": percent(1 - seed_value("care_thresholds", "churn_decline_ratio")),
        "response_limit": (
            f"{response_minutes // 60} 小时" if response_minutes % 60 == 0 else f"{response_minutes} 分钟"
        ),
        "resolution_limit": f"{int(seed_value('care_thresholds', 'resolution_sla_hours'))} 小时",
    }


def exact_sum(values: pd.Series) -> Decimal:
    """The exact sum of a money column (DuckDB DECIMAL arrives in pandas as float64; every value has
    two decimals, so its shortest repr is the exact amount)."""
    return sum((Decimal(str(v)) for v in values if not pd.isna(v)), Decimal("0"))


def _flag_changes(now: pd.DataFrame, before: pd.DataFrame, column: str) -> tuple[set[str], set[str]]:
    """Channels whose flag turned on and off between the previous month and this one."""
    on_now = set(now.loc[flag(now[column]), "channel_id"]) if not now.empty else set()
    on_before = set(before.loc[flag(before[column]), "channel_id"]) if not before.empty else set()
    return on_now - on_before, on_before - on_now


def churn_figures(churn: pd.DataFrame) -> dict:
    """The churn-warning list: its size, revenue at risk (their m3 spend) and lifetime revenue, exact."""
    warned = churn[flag(churn["churn_warning"])] if not churn.empty else churn
    return {
        "customers": len(churn),
        "warned": len(warned),
        "revenue_at_risk": exact_sum(warned["spend_m3"]) if not warned.empty else Decimal("0"),
        "warned_monetary": exact_sum(warned["monetary"]) if not warned.empty else Decimal("0"),
    }


def channel_summary(data: MonthData, lang: str) -> list[str]:
    prev = f"{data.previous:%Y-%m}"
    if data.health.empty:
        return [text(lang, "sum.no_channel_rows", month=f"{data.month:%Y-%m}")]
    th = thresholds()
    ids = lambda values: join(lang, sorted(data.channel_label(c) for c in values))  # noqa: E731
    end = text(lang, "sum.end")
    # Without rows of the previous month there is nothing to compare: no "turned on" lists then.
    compare = not data.health_previous.empty
    lines = [] if compare else [text(lang, "sum.nothing_compared", previous=prev)]
    on, off = _flag_changes(data.health, data.health_previous, "cac_over_30pct_clv")
    flagged = data.health.loc[flag(data.health["cac_over_30pct_clv"]), "channel_id"]
    lines.append(
        text(lang, "sum.cac_flag", ratio=th["ratio"], count=len(flagged))
        + (
            text(lang, "sum.cac_flag_changes", previous=prev, on=ids(on), off=ids(off))
            if compare
            else text(lang, "sum.cac_flag_list", ids=ids(flagged))
        )
    )
    optimise = data.health.loc[flag(data.health["optimisation_required"]), "channel_id"]
    lines.append(text(lang, "sum.optimise", months=th["months"], ids=ids(optimise)))
    on, off = _flag_changes(data.health, data.health_previous, "roi_top_20pct")
    top = data.health.loc[flag(data.health["roi_top_20pct"]), "channel_id"]
    lines.append(
        text(lang, "sum.roi_top", share=th["share"], ids=ids(top))
        + (text(lang, "sum.roi_top_changes", previous=prev, on=ids(on), off=ids(off)) if compare else end)
    )
    if not data.funnel.empty and not data.funnel_previous.empty:
        on, off = _flag_changes(data.funnel, data.funnel_previous, "below_benchmark")
        lines.append(text(lang, "sum.funnel", on=ids(on), off=ids(off)))
    lines.extend(_kpi_lines(data, lang))
    lines.extend(_sla_lines(data, lang, th))
    if not data.conflict.empty:
        conflicting = data.conflict[data.conflict["conflict_orders"] > 0]
        before = (
            set(data.conflict_previous.loc[data.conflict_previous["conflict_orders"] > 0, "channel_id"])
            if not data.conflict_previous.empty
            else set()
        )
        new = set(conflicting["channel_id"]) - before if not data.conflict_previous.empty else set()
        lines.append(
            text(
                lang,
                "sum.conflict",
                count=len(conflicting),
                orders=int(conflicting["conflict_orders"].sum()),
                revenue=money(lang, exact_sum(conflicting["conflict_revenue"])),
                previous=prev,
                new=ids(new),
            )
        )
    return lines


def is_true(value) -> bool:
    """A flag value that is true (NULL, NA and false are not)."""
    return value is not None and not pd.isna(value) and bool(value)


def _all_row(df: pd.DataFrame) -> pd.Series | None:
    rows = df[df["grain"] == "all"] if not df.empty else df
    return rows.iloc[0] if not rows.empty else None


def _kpi_lines(data: MonthData, lang: str) -> list[str]:
    now, before = _all_row(data.kpis), _all_row(data.kpis_previous)
    if now is None:
        return []
    name = lambda col: text(lang, f"kpi.{col}")  # noqa: E731
    met = [name(col) for col in KPI_FLAGS if is_true(now[col])]
    line = text(lang, "sum.kpis", met=int(now["kpis_met"]), total=len(KPI_FLAGS), names=join(lang, met))
    if before is not None:
        line += text(
            lang,
            "sum.kpis_changes",
            before=int(before["kpis_met"]),
            previous=f"{data.previous:%Y-%m}",
            newly=join(lang, [name(c) for c in KPI_FLAGS if is_true(now[c]) and not is_true(before[c])]),
            lost=join(lang, [name(c) for c in KPI_FLAGS if is_true(before[c]) and not is_true(now[c])]),
        )
    return [line + text(lang, "sum.end")]


def share(lang: str, value) -> str:
    return text(lang, "n/a") if value is None or pd.isna(value) else f"{100 * float(value):.1f}%"


def _sla_lines(data: MonthData, lang: str, th: dict[str, str]) -> list[str]:
    now, before = _all_row(data.sla), _all_row(data.sla_previous)
    if now is None:
        return []
    line = text(
        lang,
        "sum.sla",
        tickets=int(now["tickets"]),
        responded=share(lang, now["responded_within_2h_share"]),
        resolved=share(lang, now["resolved_within_24h_share"]),
        response_limit=th["response_limit"],
        resolution_limit=th["resolution_limit"],
    )
    if before is not None:
        line += text(
            lang,
            "sum.sla_before",
            previous=f"{data.previous:%Y-%m}",
            responded=share(lang, before["responded_within_2h_share"]),
            resolved=share(lang, before["resolved_within_24h_share"]),
        )
    return [line + text(lang, "sum.sla_open", open=int(now["open_tickets"]))]


def customer_summary(data: MonthData, lang: str) -> list[str]:
    prev = f"{data.previous:%Y-%m}"
    sep = text(lang, "list.sep")
    lines = []
    if not data.rfm.empty:
        now = data.rfm.groupby("rfm_segment").size()
        before = data.rfm_previous.groupby("rfm_segment").size() if not data.rfm_previous.empty else None
        if before is not None:
            change = now.sub(before, fill_value=0).astype(int)
            # Largest moves first, ties by segment name, so the sentence is the same on every run.
            grew = sorted(((s, int(n)) for s, n in change.items() if n > 0), key=lambda sn: (-sn[1], sn[0]))
            shrank = sorted(((s, int(n)) for s, n in change.items() if n < 0), key=lambda sn: (sn[1], sn[0]))
            lines.append(
                text(
                    lang,
                    "sum.segments",
                    previous=prev,
                    grew=join(lang, [f"{s} +{n}" for s, n in grew]),
                    shrank=join(lang, [f"{s} {n}" for s, n in shrank]),
                )
            )
            tiers_now = data.rfm.groupby("customer_tier").size()
            tiers_before = data.rfm_previous.groupby("customer_tier").size()
            tier_change = tiers_now.sub(tiers_before, fill_value=0).astype(int)
            tiers = sep.join(
                f"{tier_name(lang, t)} {int(tiers_now.get(t, 0))} ({tier_change.get(t, 0):+d})"
                for t in tier_change.index
            )
            lines.append(text(lang, "sum.tiers", tiers=tiers, previous=prev))
        else:
            lines.append(text(lang, "sum.segments_first", buyers=len(data.rfm), previous=prev))
    nps_all = data.nps[(data.nps["grain"] == "all") & (data.nps["month"] == data.month)]
    if not nps_all.empty:
        row = nps_all.iloc[0]
        change = row["nps_change"]
        line = text(
            lang, "sum.nps", nps=f"{row['nps']:.1f}", moe=f"{row['nps_moe_95']:.1f}", answers=int(row["responses"])
        )
        if change is not None and not pd.isna(change):
            line += text(lang, "sum.nps_change", change=f"{change:+.1f}", previous=prev)
            if abs(change) <= row["nps_moe_95"]:
                line += text(lang, "sum.nps_within")
        lines.append(line + text(lang, "sum.end"))
    if not data.churn.empty:
        figures = churn_figures(data.churn)
        th = thresholds()
        lines.append(
            text(
                lang,
                "sum.churn",
                warned=figures["warned"],
                streak=th["streak"],
                decline=th["decline"],
                customers=figures["customers"],
                at_risk=money(lang, figures["revenue_at_risk"]),
            )
        )
    if not data.loyalty.empty:
        counts = data.loyalty.groupby(["tier_rank", "loyalty_tier"]).size()
        tiers = sep.join(f"{tier} {n}" for (_, tier), n in counts.items())
        lines.append(text(lang, "sum.loyalty", as_of=data.as_of, tiers=tiers))
    return lines or [text(lang, "sum.no_customer_rows", month=f"{data.month:%Y-%m}")]
