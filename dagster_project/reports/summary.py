"""The written summary of each report: what changed against the previous month, in short sentences.

Every sentence reads a flag or a figure the marts already computed (thresholds live in the seeds and
the mart definitions); nothing here re-derives a business rule.
"""

from __future__ import annotations

import pandas as pd

from dagster_project.reports.month_data import MonthData, flag

KPI_FLAGS = {
    "attainment_ok": "revenue attainment",
    "new_customers_ok": "new customers",
    "retention_ok": "retention",
    "repeat_purchase_ok": "repeat purchase rate",
    "cycle_days_ok": "sales cycle",
    "aov_growth_ok": "average order value growth",
    "csat_ok": "CSAT",
}


def _ids(ids) -> str:
    ids = sorted(ids)
    return ", ".join(ids) if ids else "none"


def _flag_changes(now: pd.DataFrame, before: pd.DataFrame, column: str) -> tuple[set[str], set[str]]:
    """Channels whose flag turned on and off between the previous month and this one."""
    on_now = set(now.loc[flag(now[column]), "channel_id"]) if not now.empty else set()
    on_before = set(before.loc[flag(before[column]), "channel_id"]) if not before.empty else set()
    return on_now - on_before, on_before - on_now


def churn_figures(churn: pd.DataFrame) -> dict[str, float]:
    """The churn-warning list: its size, revenue at risk (their m3 spend) and lifetime revenue."""
    warned = churn[flag(churn["churn_warning"])] if not churn.empty else churn
    return {
        "customers": len(churn),
        "warned": len(warned),
        "revenue_at_risk": float(warned["spend_m3"].sum()) if not warned.empty else 0.0,
        "warned_monetary": float(warned["monetary"].sum()) if not warned.empty else 0.0,
    }


def channel_summary(data: MonthData) -> list[str]:
    prev = f"{data.previous:%Y-%m}"
    if data.health.empty:
        return [f"No channel rows were published for {data.month:%Y-%m}."]
    # Without rows of the previous month there is nothing to compare: no "turned on" lists then.
    compare = not data.health_previous.empty
    lines = [] if compare else [f"No channel rows of {prev} were published, so nothing is compared."]
    on, off = _flag_changes(data.health, data.health_previous, "cac_over_30pct_clv")
    flagged = data.health.loc[flag(data.health["cac_over_30pct_clv"]), "channel_id"]
    lines.append(
        f"CAC above 30% of CLV: {len(flagged)} channel(s) this month"
        + (f"; turned on since {prev}: {_ids(on)}; turned off: {_ids(off)}." if compare else f": {_ids(flagged)}.")
    )
    optimise = data.health.loc[flag(data.health["optimisation_required"]), "channel_id"]
    lines.append(f"Optimisation required (flag on for 3 months or more in a row): {_ids(optimise)}.")
    on, off = _flag_changes(data.health, data.health_previous, "roi_top_20pct")
    top = data.health.loc[flag(data.health["roi_top_20pct"]), "channel_id"]
    lines.append(
        f"ROI top 20%: {_ids(top)}" + (f"; entered since {prev}: {_ids(on)}; left: {_ids(off)}." if compare else ".")
    )
    if not data.funnel.empty and not data.funnel_previous.empty:
        on, off = _flag_changes(data.funnel, data.funnel_previous, "below_benchmark")
        lines.append(f"Funnel below its channel-type benchmark, newly: {_ids(on)}; recovered: {_ids(off)}.")
    lines.extend(_kpi_lines(data))
    lines.extend(_sla_lines(data))
    if not data.conflict.empty:
        conflicting = data.conflict[data.conflict["conflict_orders"] > 0]
        before = (
            set(data.conflict_previous.loc[data.conflict_previous["conflict_orders"] > 0, "channel_id"])
            if not data.conflict_previous.empty
            else set()
        )
        new = set(conflicting["channel_id"]) - before if not data.conflict_previous.empty else set()
        lines.append(
            f"Channel conflict: {len(conflicting)} partner channel(s) sold outside their regions "
            f"({int(conflicting['conflict_orders'].sum())} orders, {conflicting['conflict_revenue'].sum():,.2f} "
            f"yuan); new since {prev}: {_ids(new)}."
        )
    return lines


def is_true(value) -> bool:
    """A flag value that is true (NULL, NA and false are not)."""
    return value is not None and not pd.isna(value) and bool(value)


def _all_row(df: pd.DataFrame) -> pd.Series | None:
    rows = df[df["grain"] == "all"] if not df.empty else df
    return rows.iloc[0] if not rows.empty else None


def _kpi_lines(data: MonthData) -> list[str]:
    now, before = _all_row(data.kpis), _all_row(data.kpis_previous)
    if now is None:
        return []
    met = [label for col, label in KPI_FLAGS.items() if is_true(now[col])]
    text = f"KPI scorecard: {int(now['kpis_met'])} of {len(KPI_FLAGS)} KPIs met ({', '.join(met) or 'none'})"
    if before is not None:
        turned_met = [label for col, label in KPI_FLAGS.items() if is_true(now[col]) and not is_true(before[col])]
        turned_missed = [label for col, label in KPI_FLAGS.items() if is_true(before[col]) and not is_true(now[col])]
        text += (
            f", against {int(before['kpis_met'])} in {data.previous:%Y-%m}; newly met: "
            f"{', '.join(turned_met) or 'none'}; no longer met: {', '.join(turned_missed) or 'none'}"
        )
    return [text + "."]


def _share(value) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{100 * float(value):.1f}%"


def _sla_lines(data: MonthData) -> list[str]:
    now, before = _all_row(data.sla), _all_row(data.sla_previous)
    if now is None:
        return []
    text = (
        f"Complaints: {int(now['tickets'])} tickets, answered within the response limit "
        f"{_share(now['responded_within_2h_share'])}, resolved within the resolution limit "
        f"{_share(now['resolved_within_24h_share'])}"
    )
    if before is not None:
        text += (
            f" (in {data.previous:%Y-%m}: {_share(before['responded_within_2h_share'])} and "
            f"{_share(before['resolved_within_24h_share'])})"
        )
    return [text + f"; {int(now['open_tickets'])} still open."]


def customer_summary(data: MonthData) -> list[str]:
    prev = f"{data.previous:%Y-%m}"
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
                f"RFM segments since {prev}: grew "
                + (", ".join(f"{s} +{n}" for s, n in grew) or "none")
                + "; shrank "
                + (", ".join(f"{s} {n}" for s, n in shrank) or "none")
                + "."
            )
            tiers_now = data.rfm.groupby("customer_tier").size()
            tiers_before = data.rfm_previous.groupby("customer_tier").size()
            tier_change = tiers_now.sub(tiers_before, fill_value=0).astype(int)
            lines.append(
                "Buyers by tier: "
                + ", ".join(f"{t} {int(tiers_now.get(t, 0))} ({tier_change.get(t, 0):+d})" for t in tier_change.index)
                + f" against {prev}."
            )
        else:
            lines.append(f"RFM segments: {len(data.rfm)} buyers; no snapshot of {prev} to compare with.")
    nps_all = data.nps[(data.nps["grain"] == "all") & (data.nps["month"] == data.month)]
    if not nps_all.empty:
        row = nps_all.iloc[0]
        change = row["nps_change"]
        text = f"NPS {row['nps']:.1f} (margin of error ±{row['nps_moe_95']:.1f}, {int(row['responses'])} answers)"
        if change is not None and not pd.isna(change):
            within = abs(change) <= row["nps_moe_95"]
            text += f", {change:+.1f} against {prev}" + (" (within the margin of error)" if within else "")
        lines.append(text + ".")
    if not data.churn.empty:
        figures = churn_figures(data.churn)
        lines.append(
            f"Churn warning: {figures['warned']} customer(s) with three months of spend down 20% or more "
            f"(of {figures['customers']} recent buyers); revenue at risk {figures['revenue_at_risk']:,.2f} yuan "
            f"a month (their spend in m3, before the decline)."
        )
    if not data.loyalty.empty:
        counts = data.loyalty.groupby(["tier_rank", "loyalty_tier"]).size()
        lines.append(
            f"Loyalty tiers as of D = {data.as_of}: "
            + ", ".join(f"{tier} {n}" for (_, tier), n in counts.items())
            + "."
        )
    return lines or [f"No customer rows were published for {data.month:%Y-%m}."]
