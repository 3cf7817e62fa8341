"""The Plotly figures of both reports. Each returns None when the month has no rows for it, so a page
never shows an empty chart (the page says why instead)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dagster_project.reports.month_data import MonthData, flag, seed_value

TRAFFIC_STAGES = [
    ("visits", "Visits"),
    ("inquiries", "Inquiries"),
    ("carts", "Carts"),
    ("orders", "Orders"),
    ("repeat_buyers", "Repeat buyers"),
]
LEAD_STAGES = [
    ("leads_created", "Created"),
    ("leads_qualified", "Qualified"),
    ("leads_proposal", "Proposal"),
    ("leads_won", "Won"),
]
TIER_ORDER = ["strategic", "growth", "potential"]
FLAGGED, PLAIN, LINE = "#d62728", "#1f77b4", "#7f7f7f"


def _layout(fig: go.Figure, title: str, height: int = 420) -> go.Figure:
    fig.update_layout(
        title=title,
        height=height,
        margin={"l": 70, "r": 30, "t": 120, "b": 60},
        template="plotly_white",
        legend={"orientation": "h", "y": 1.1, "yanchor": "bottom", "x": 1, "xanchor": "right"},
    )
    return fig


def _hover_names(data: MonthData, ids: pd.Series) -> list[str]:
    names = dict(zip(data.channels["channel_id"], data.channels["channel_name"], strict=False))
    return [f"{cid} {names.get(cid, '')}".strip() for cid in ids]


def _funnel(data: MonthData, stages: list[tuple[str, str]], title: str) -> go.Figure | None:
    """One funnel trace per channel type, each stage summed over the type's channels."""
    if data.funnel.empty or int(data.funnel[stages[0][0]].sum()) == 0:
        return None
    fig = go.Figure()
    for channel_type, rows in data.funnel.groupby("channel_type", sort=True):
        fig.add_trace(
            go.Funnel(
                name=channel_type,
                y=[label for _, label in stages],
                x=[int(rows[col].sum()) for col, _ in stages],
                textinfo="value+percent initial",
            )
        )
    return _layout(fig, title)


def traffic_funnel(data: MonthData) -> go.Figure | None:
    return _funnel(data, TRAFFIC_STAGES, "Traffic funnel by channel type (visits → repeat buyers)")


def lead_funnel(data: MonthData) -> go.Figure | None:
    return _funnel(data, LEAD_STAGES, "Lead funnel of the month's cohort by channel type (created → won)")


def cac_against_clv(data: MonthData) -> go.Figure | None:
    rows = data.health.dropna(subset=["cac", "clv"])
    if rows.empty:
        return None
    ratio = float(seed_value("mart_thresholds", "cac_clv_ratio"))
    fig = go.Figure()
    over = flag(rows["cac_over_30pct_clv"])
    for name, part, color in [(f"CAC > {ratio:.0%} of CLV", rows[over], FLAGGED), ("within", rows[~over], PLAIN)]:
        if part.empty:
            continue
        fig.add_trace(
            go.Scatter(
                name=name,
                x=part["clv"],
                y=part["cac"],
                mode="markers+text",
                text=part["channel_id"],
                textposition="top center",
                marker={"color": color, "size": 10},
                hovertext=_hover_names(data, part["channel_id"]),
                hovertemplate="%{hovertext}<br>CLV %{x:,.2f}<br>CAC %{y:,.2f}<extra></extra>",
            )
        )
    top = float(rows["clv"].max()) * 1.05
    fig.add_trace(
        go.Scatter(
            name=f"CAC = {ratio:.0%} of CLV",
            x=[0, top],
            y=[0, ratio * top],
            mode="lines",
            line={"color": LINE, "dash": "dash"},
        )
    )
    fig.update_xaxes(title="CLV (yuan)")
    fig.update_yaxes(title="CAC (yuan)")
    return _layout(fig, f"CAC against CLV per channel, with the {ratio:.0%} line", height=500)


def roi_ranking(data: MonthData) -> go.Figure | None:
    rows = data.health.dropna(subset=["roi"]).sort_values("roi", ascending=True)
    if rows.empty:
        return None
    top = flag(rows["roi_top_20pct"])
    fig = go.Figure(
        go.Bar(
            x=rows["roi"],
            y=rows["channel_id"],
            orientation="h",
            marker={"color": [FLAGGED if t else PLAIN for t in top]},
            text=[f"{r:,.1f}" + (" ★ top 20%" if t else "") for r, t in zip(rows["roi"], top, strict=True)],
            textposition="outside",
            hovertext=_hover_names(data, rows["channel_id"]),
            hovertemplate="%{hovertext}<br>ROI %{x:,.2f}<extra></extra>",
        )
    )
    fig.update_xaxes(title="ROI (revenue / spend)", range=[0, float(rows["roi"].max()) * 1.25])
    return _layout(fig, "ROI ranking (red: top 20% of channels with a ROI)", height=max(420, 22 * len(rows) + 120))


def conflict_chart(data: MonthData) -> go.Figure | None:
    rows = data.conflict.sort_values("conflict_share", ascending=False)
    if rows.empty:
        return None
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("Share of partner orders outside the authorized regions", "Conflict revenue (yuan)"),
    )
    hover = _hover_names(data, rows["channel_id"])
    fig.add_trace(
        go.Bar(
            name="conflict share",
            x=rows["channel_id"],
            y=rows["conflict_share"],
            hovertext=hover,
            marker={"color": FLAGGED},
            customdata=rows[["conflict_orders", "partner_orders"]].to_numpy(),
            hovertemplate="%{hovertext}<br>%{customdata[0]} of %{customdata[1]} orders<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            name="conflict revenue",
            x=rows["channel_id"],
            y=rows["conflict_revenue"],
            hovertext=hover,
            marker={"color": PLAIN},
        ),
        row=1,
        col=2,
    )
    fig.update_yaxes(tickformat=".1%", row=1, col=1)
    fig.update_layout(showlegend=False)  # the subplot titles name both bars
    return _layout(fig, "Channel conflict: partner sales shipped outside authorized regions")


def sla_by_channel(data: MonthData) -> go.Figure | None:
    rows = data.sla[data.sla["grain"] == "channel"].sort_values("channel_id") if not data.sla.empty else data.sla
    if rows.empty:
        return None
    fig = go.Figure()
    for col, label, color in [
        ("responded_within_2h_share", "answered within the response limit", PLAIN),
        ("resolved_within_24h_share", "resolved within the resolution limit", "#2ca02c"),
    ]:
        fig.add_trace(
            go.Bar(
                name=label,
                x=rows["channel_id"],
                y=rows[col],
                marker={"color": color},
                customdata=rows["tickets"],
                hovertext=_hover_names(data, rows["channel_id"]),
                hovertemplate="%{hovertext}<br>%{y:.1%} of due tickets (%{customdata} opened)<extra></extra>",
            )
        )
    fig.update_yaxes(tickformat=".0%", range=[0, 1.05])
    fig.update_layout(barmode="group")
    return _layout(fig, "Complaint SLAs by channel (tickets opened in the month)")


KPI_ROWS = [
    ("Revenue attainment", "attainment", "{:.1%}", "attainment_ok", "attainment_ok"),
    ("New customers", "new_customers", "{:,.0f}", "new_customers_ok", None),
    ("Retention rate", "retention_rate", "{:.1%}", "retention_ok", "retention_rate_ok"),
    ("Repeat purchase rate", "repeat_purchase_rate", "{:.1%}", "repeat_purchase_ok", "repeat_purchase_rate_ok"),
    ("Sales cycle median (days)", "cycle_days_median", "{:.1f}", "cycle_days_ok", "cycle_days_ok"),
    ("AOV growth year on year", "aov_growth_yoy", "{:+.1%}", "aov_growth_ok", "aov_growth_yoy_ok"),
    ("CSAT", "csat", "{:.1%}", "csat_ok", "csat_ok"),
]


def _fmt(fmt: str, value) -> str:
    return "n/a" if value is None or pd.isna(value) else fmt.format(float(value))


def kpi_scorecard(data: MonthData) -> go.Figure | None:
    rows = data.kpis[data.kpis["grain"] == "all"] if not data.kpis.empty else data.kpis
    if rows.empty:
        return None
    row = rows.iloc[0]
    labels, values, targets, met = [], [], [], []
    for label, col, fmt, ok_col, seed_name in KPI_ROWS:
        labels.append(label)
        values.append(_fmt(fmt, row[col]))
        if col == "new_customers":
            targets.append(_fmt("≥ {:,.0f}", row["new_customers_target"]))
        elif col == "attainment":
            targets.append(
                f"≥ {float(seed_value('kpi_targets', seed_name)):.0%} of " + _fmt("{:,.2f}", row["revenue_target"])
            )
        elif col == "cycle_days_median":
            targets.append(f"≤ {seed_value('kpi_targets', seed_name)}")
        else:
            targets.append("≥ " + _fmt(fmt.replace("+", ""), seed_value("kpi_targets", seed_name)))
        ok = row[ok_col]
        met.append("n/a" if ok is None or pd.isna(ok) else ("met" if bool(ok) else "missed"))
    colors = [["white"] * len(labels)] * 3 + [
        ["#d4edda" if m == "met" else "#f8d7da" if m == "missed" else "white" for m in met]
    ]
    fig = go.Figure(
        go.Table(
            header={"values": ["KPI", "value", "target", "status"], "fill_color": "#e9ecef", "align": "left"},
            cells={"values": [labels, values, targets, met], "align": "left", "fill_color": colors, "height": 28},
        )
    )
    return _layout(fig, f"KPI scorecard, all channels: {int(row['kpis_met'])} of {len(KPI_ROWS)} met", height=380)


def kpis_by_channel(data: MonthData) -> go.Figure | None:
    rows = data.kpis[data.kpis["grain"] == "channel"] if not data.kpis.empty else data.kpis
    if rows.empty:
        return None
    rows = rows.sort_values(["kpis_met", "channel_id"], ascending=[False, True])
    fig = go.Figure(
        go.Bar(
            x=rows["channel_id"],
            y=rows["kpis_met"],
            marker={"color": PLAIN},
            customdata=rows["attainment"],
            hovertext=_hover_names(data, rows["channel_id"]),
            hovertemplate="%{hovertext}<br>%{y} KPIs met<br>attainment %{customdata:.1%}<extra></extra>",
        )
    )
    fig.update_yaxes(title="KPIs met", range=[0, len(KPI_ROWS)], dtick=1)
    return _layout(fig, "KPIs met per channel with a sales target")


def rfm_segments(data: MonthData) -> go.Figure | None:
    if data.rfm.empty:
        return None
    now = data.rfm.groupby("rfm_segment").agg(customers=("customer_id", "size"), revenue=("monetary", "sum"))
    now = now.sort_values("customers", ascending=False)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Customers per segment", "Lifetime revenue per segment"))
    fig.add_trace(
        go.Bar(name=f"{data.month:%Y-%m}", x=now.index, y=now["customers"], marker={"color": PLAIN}), row=1, col=1
    )
    if not data.rfm_previous.empty:
        before = data.rfm_previous.groupby("rfm_segment").size().reindex(now.index).fillna(0)
        fig.add_trace(
            go.Bar(name=f"{data.previous:%Y-%m}", x=now.index, y=before, marker={"color": LINE}), row=1, col=1
        )
    fig.add_trace(
        go.Bar(name="revenue", x=now.index, y=now["revenue"], marker={"color": "#2ca02c"}, showlegend=False),
        row=1,
        col=2,
    )
    fig.update_layout(barmode="group")
    return _layout(fig, f"RFM segments ({data.rfm_source})", height=480)


def _mix(frame: pd.DataFrame, by: str, order: list[str], money: str, money_title: str, title: str) -> go.Figure:
    mix = frame.groupby(by).agg(customers=(by, "size"), revenue=(money, "sum"))
    mix = mix.reindex([k for k in order if k in mix.index])
    fig = make_subplots(
        rows=1, cols=2, specs=[[{"type": "domain"}, {"type": "xy"}]], subplot_titles=("Customers", money_title)
    )
    fig.add_trace(go.Pie(labels=mix.index, values=mix["customers"], sort=False, name="customers"), row=1, col=1)
    fig.add_trace(
        go.Bar(x=mix.index, y=mix["revenue"], name=money_title, marker={"color": PLAIN}, showlegend=False), row=1, col=2
    )
    return _layout(fig, title)


def tier_mix(data: MonthData) -> go.Figure | None:
    if data.rfm.empty:
        return None
    return _mix(
        data.rfm,
        "customer_tier",
        TIER_ORDER,
        "revenue_365d",
        "Revenue of the last 365 days (yuan)",
        f"Customer tiers of the buyers ({data.rfm_source})",
    )


def loyalty_mix(data: MonthData) -> go.Figure | None:
    if data.loyalty.empty:
        return None
    order = list(data.loyalty.sort_values("tier_rank")["loyalty_tier"].drop_duplicates())
    return _mix(
        data.loyalty,
        "loyalty_tier",
        order,
        "lifetime_revenue",
        "Lifetime revenue (yuan)",
        f"Loyalty tiers of the known customers (as of D = {data.as_of})",
    )


def churn_chart(data: MonthData) -> go.Figure | None:
    if data.churn.empty:
        return None
    streaks = data.churn.groupby("decline_streak").size().reindex(range(4), fill_value=0)
    warned = data.churn[flag(data.churn["churn_warning"])]
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(
            "Recent buyers by months of declining spend",
            "Warned customers' monthly spend, m3 → m0 (yuan)",
        ),
    )
    fig.add_trace(
        go.Bar(
            x=[f"{k} month(s)" for k in streaks.index],
            y=streaks.values,
            name="customers",
            marker={"color": [PLAIN, PLAIN, PLAIN, FLAGGED]},
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    months = ["m3", "m2", "m1", "m0"]
    for tier in TIER_ORDER:
        part = warned[warned["customer_tier"] == tier]
        if part.empty:
            continue
        fig.add_trace(go.Bar(name=tier, x=months, y=[float(part[f"spend_{m}"].sum()) for m in months]), row=1, col=2)
    if warned.empty:
        fig.add_annotation(text="nobody is on the list", showarrow=False, x=0.78, y=0.5, xref="paper", yref="paper")
    fig.update_layout(barmode="stack")
    return _layout(fig, f"Churn warning for {data.month:%Y-%m} (m0)")


def nps_trend(data: MonthData) -> go.Figure | None:
    if data.nps.empty:
        return None
    fig = go.Figure()
    for key, rows in data.nps.groupby("grain_key", sort=False):
        rows = rows.sort_values("month")
        fig.add_trace(
            go.Scatter(
                name="all customers" if key == "all" else f"tier {key}",
                x=[m.isoformat() for m in rows["month"]],
                y=rows["nps"],
                mode="lines+markers",
                error_y={"type": "data", "array": rows["nps_moe_95"], "visible": True},
                customdata=rows["responses"],
                hovertemplate="%{x}: NPS %{y:.1f} ± %{error_y.array:.1f} (%{customdata} answers)<extra></extra>",
                line={"width": 3 if key == "all" else 1.5},
            )
        )
    fig.update_xaxes(title="month", type="category")
    fig.update_yaxes(title="NPS (95% margin of error)", range=[-100, 100])
    return _layout(fig, "NPS trend with 95% margins of error", height=460)
