"""The Plotly figures of both reports, labelled in the report's language (messages.py), with the
channels named on the axes as the channel master delivers them. Each returns None when the month has
no rows for it, so a page never shows an empty chart (the page says why instead)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dagster_project.reports.messages import percent, text, tier_name
from dagster_project.reports.month_data import MonthData, flag, seed_value

TRAFFIC_STAGES = ["visits", "inquiries", "carts", "orders", "repeat_buyers"]
LEAD_STAGES = ["leads_created", "leads_qualified", "leads_proposal", "leads_won"]
TIER_ORDER = ["strategic", "growth", "potential"]
FLAGGED, PLAIN, LINE = "#d62728", "#1f77b4", "#7f7f7f"
# CJK first where the page is Chinese; Debian's fonts-noto-cjk provides Noto Sans CJK SC.
FONTS = {
    "zh": "'Noto Sans CJK SC','Noto Sans SC','PingFang SC','Microsoft YaHei',sans-serif",
    "en": "-apple-system,'Segoe UI',Helvetica,Arial,'Noto Sans CJK SC',sans-serif",
}


def _layout(fig: go.Figure, title: str, lang: str, height: int = 420) -> go.Figure:
    fig.update_layout(
        title=title,
        height=height,
        margin={"l": 70, "r": 30, "t": 120, "b": 60},
        template="plotly_white",
        font={"family": FONTS[lang]},
        legend={"orientation": "h", "y": 1.1, "yanchor": "bottom", "x": 1, "xanchor": "right"},
    )
    return fig


def _hover(data: MonthData, ids: pd.Series) -> list[str]:
    """The channel id with its name, for the hover box (the axes show the name)."""
    return [f"{cid} {data.channel_label(cid)}" if data.channel_label(cid) != cid else cid for cid in ids]


def _funnel(data: MonthData, lang: str, stages: list[str], title_key: str) -> go.Figure | None:
    """One funnel trace per channel type, each stage summed over the type's channels."""
    if data.funnel.empty or int(data.funnel[stages[0]].sum()) == 0:
        return None
    fig = go.Figure()
    for channel_type, rows in data.funnel.groupby("channel_type", sort=True):
        fig.add_trace(
            go.Funnel(
                name=channel_type,
                y=[text(lang, f"stage.{col}") for col in stages],
                x=[int(rows[col].sum()) for col in stages],
                textinfo="value+percent initial",
            )
        )
    return _layout(fig, text(lang, title_key), lang)


def traffic_funnel(data: MonthData, lang: str) -> go.Figure | None:
    return _funnel(data, lang, TRAFFIC_STAGES, "chart.traffic_funnel")


def lead_funnel(data: MonthData, lang: str) -> go.Figure | None:
    return _funnel(data, lang, LEAD_STAGES, "chart.lead_funnel")


def cac_against_clv(data: MonthData, lang: str) -> go.Figure | None:
    rows = data.health.dropna(subset=["cac", "clv"])
    if rows.empty:
        return None
    ratio = seed_value("mart_thresholds", "cac_clv_ratio")
    label = percent(ratio)
    fig = go.Figure()
    over = flag(rows["cac_over_30pct_clv"])
    traces = [
        (text(lang, "chart.cac_over", ratio=label), rows[over], FLAGGED),
        (text(lang, "chart.within"), rows[~over], PLAIN),
    ]
    for name, part, color in traces:
        if part.empty:
            continue
        fig.add_trace(
            go.Scatter(
                name=name,
                x=part["clv"],
                y=part["cac"],
                mode="markers+text",
                text=data.channel_labels(part["channel_id"]),
                textposition="top center",
                marker={"color": color, "size": 10},
                customdata=list(part["channel_id"]),
                hovertext=_hover(data, part["channel_id"]),
                hovertemplate="%{hovertext}<br>CLV %{x:,.2f}<br>CAC %{y:,.2f}<extra></extra>",
            )
        )
    top = float(rows["clv"].max()) * 1.05
    fig.add_trace(
        go.Scatter(
            name=text(lang, "chart.cac_line", ratio=label),
            x=[0, top],
            y=[0, float(ratio) * top],
            mode="lines",
            line={"color": LINE, "dash": "dash"},
        )
    )
    fig.update_xaxes(title=text(lang, "axis.clv"))
    fig.update_yaxes(title=text(lang, "axis.cac"))
    return _layout(fig, text(lang, "chart.cac_against_clv", ratio=label), lang, height=500)


def roi_ranking(data: MonthData, lang: str) -> go.Figure | None:
    rows = data.health.dropna(subset=["roi"]).sort_values("roi", ascending=True)
    if rows.empty:
        return None
    share = percent(seed_value("mart_thresholds", "roi_top_share"))
    top = flag(rows["roi_top_20pct"])
    star = text(lang, "chart.top", share=share)
    fig = go.Figure(
        go.Bar(
            x=rows["roi"],
            y=data.channel_labels(rows["channel_id"]),
            orientation="h",
            marker={"color": [FLAGGED if t else PLAIN for t in top]},
            text=[f"{r:,.1f}" + (star if t else "") for r, t in zip(rows["roi"], top, strict=True)],
            textposition="outside",
            customdata=list(rows["channel_id"]),
            hovertext=_hover(data, rows["channel_id"]),
            hovertemplate="%{hovertext}<br>ROI %{x:,.2f}<extra></extra>",
        )
    )
    fig.update_xaxes(title=text(lang, "axis.roi"), range=[0, float(rows["roi"].max()) * 1.25])
    fig.update_yaxes(automargin=True)
    return _layout(fig, text(lang, "chart.roi_ranking", share=share), lang, height=max(420, 22 * len(rows) + 120))


def conflict_chart(data: MonthData, lang: str) -> go.Figure | None:
    rows = data.conflict.sort_values("conflict_share", ascending=False)
    if rows.empty:
        return None
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(text(lang, "chart.conflict_share"), text(lang, "chart.conflict_revenue")),
    )
    hover = _hover(data, rows["channel_id"])
    names = data.channel_labels(rows["channel_id"])
    orders_of = text(lang, "hover.orders_of", a="%{customdata[0]}", b="%{customdata[1]}")
    fig.add_trace(
        go.Bar(
            name="conflict share",
            x=names,
            y=rows["conflict_share"],
            hovertext=hover,
            marker={"color": FLAGGED},
            customdata=rows[["conflict_orders", "partner_orders"]].to_numpy(),
            hovertemplate="%{hovertext}<br>" + orders_of + "<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(name="conflict revenue", x=names, y=rows["conflict_revenue"], hovertext=hover, marker={"color": PLAIN}),
        row=1,
        col=2,
    )
    fig.update_yaxes(tickformat=".1%", row=1, col=1)
    fig.update_layout(showlegend=False)  # the subplot titles name both bars
    return _layout(fig, text(lang, "chart.conflict_chart"), lang)


def sla_by_channel(data: MonthData, lang: str) -> go.Figure | None:
    rows = data.sla[data.sla["grain"] == "channel"].sort_values("channel_id") if not data.sla.empty else data.sla
    if rows.empty:
        return None
    fig = go.Figure()
    due = text(lang, "hover.due_tickets")
    opened = text(lang, "hover.opened")
    for col, key, color in [
        ("responded_within_2h_share", "chart.responded", PLAIN),
        ("resolved_within_24h_share", "chart.resolved", "#2ca02c"),
    ]:
        fig.add_trace(
            go.Bar(
                name=text(lang, key),
                x=data.channel_labels(rows["channel_id"]),
                y=rows[col],
                marker={"color": color},
                customdata=rows["tickets"],
                hovertext=_hover(data, rows["channel_id"]),
                hovertemplate="%{hovertext}<br>%{y:.1%} " + due + " (%{customdata} " + opened + ")<extra></extra>",
            )
        )
    fig.update_yaxes(tickformat=".0%", range=[0, 1.05])
    fig.update_layout(barmode="group")
    return _layout(fig, text(lang, "chart.sla_by_channel"), lang)


# (value column, format, met flag of mart_sales_kpis, threshold in seed kpi_targets)
KPI_ROWS = [
    ("attainment", "{:.1%}", "attainment_ok", "attainment_ok"),
    ("new_customers", "{:,.0f}", "new_customers_ok", None),
    ("retention_rate", "{:.1%}", "retention_ok", "retention_rate_ok"),
    ("repeat_purchase_rate", "{:.1%}", "repeat_purchase_ok", "repeat_purchase_rate_ok"),
    ("cycle_days_median", "{:.1f}", "cycle_days_ok", "cycle_days_ok"),
    ("aov_growth_yoy", "{:+.1%}", "aov_growth_ok", "aov_growth_yoy_ok"),
    ("csat", "{:.1%}", "csat_ok", "csat_ok"),
]


def _fmt(lang: str, fmt: str, value) -> str:
    return text(lang, "n/a") if value is None or pd.isna(value) else fmt.format(float(value))


def kpi_scorecard(data: MonthData, lang: str) -> go.Figure | None:
    rows = data.kpis[data.kpis["grain"] == "all"] if not data.kpis.empty else data.kpis
    if rows.empty:
        return None
    row = rows.iloc[0]
    labels, values, targets, met = [], [], [], []
    for col, fmt, ok_col, seed_name in KPI_ROWS:
        labels.append(text(lang, f"kpirow.{col}"))
        values.append(_fmt(lang, fmt, row[col]))
        if col == "new_customers":
            targets.append(_fmt(lang, "≥ {:,.0f}", row["new_customers_target"]))
        elif col == "attainment":
            share = percent(seed_value("kpi_targets", seed_name))
            targets.append(
                text(lang, "kpi.of_target", share=share, target=_fmt(lang, "{:,.2f}", row["revenue_target"]))
            )
        elif col == "cycle_days_median":
            targets.append(f"≤ {seed_value('kpi_targets', seed_name)}")
        else:
            targets.append("≥ " + _fmt(lang, fmt.replace("+", ""), seed_value("kpi_targets", seed_name)))
        ok = row[ok_col]
        met.append(
            text(lang, "n/a") if ok is None or pd.isna(ok) else text(lang, "kpi.met" if bool(ok) else "kpi.missed")
        )
    colors = [["white"] * len(labels)] * 3 + [
        [
            "#d4edda" if m == text(lang, "kpi.met") else "#f8d7da" if m == text(lang, "kpi.missed") else "white"
            for m in met
        ]
    ]
    fig = go.Figure(
        go.Table(
            header={"values": text(lang, "kpi.header").split("|"), "fill_color": "#e9ecef", "align": "left"},
            cells={"values": [labels, values, targets, met], "align": "left", "fill_color": colors, "height": 28},
        )
    )
    title = text(lang, "chart.kpi_scorecard", met=int(row["kpis_met"]), total=len(KPI_ROWS))
    return _layout(fig, title, lang, height=380)


def kpis_by_channel(data: MonthData, lang: str) -> go.Figure | None:
    rows = data.kpis[data.kpis["grain"] == "channel"] if not data.kpis.empty else data.kpis
    if rows.empty:
        return None
    rows = rows.sort_values(["kpis_met", "channel_id"], ascending=[False, True])
    fig = go.Figure(
        go.Bar(
            x=data.channel_labels(rows["channel_id"]),
            y=rows["kpis_met"],
            marker={"color": PLAIN},
            customdata=rows["attainment"],
            hovertext=_hover(data, rows["channel_id"]),
            hovertemplate="%{hovertext}<br>%{y} "
            + text(lang, "hover.kpis_met")
            + "<br>"
            + text(lang, "hover.attainment")
            + " %{customdata:.1%}<extra></extra>",
        )
    )
    fig.update_yaxes(title=text(lang, "axis.kpis_met"), range=[0, len(KPI_ROWS)], dtick=1)
    return _layout(fig, text(lang, "chart.kpis_by_channel"), lang)


def rfm_segments(data: MonthData, lang: str) -> go.Figure | None:
    if data.rfm.empty:
        return None
    now = data.rfm.groupby("rfm_segment").agg(customers=("customer_id", "size"), revenue=("monetary", "sum"))
    now = now.sort_values("customers", ascending=False)
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(text(lang, "chart.customers_per_segment"), text(lang, "chart.revenue_per_segment")),
    )
    fig.add_trace(
        go.Bar(name=f"{data.month:%Y-%m}", x=now.index, y=now["customers"], marker={"color": PLAIN}), row=1, col=1
    )
    if not data.rfm_previous.empty:
        before = data.rfm_previous.groupby("rfm_segment").size().reindex(now.index).fillna(0)
        fig.add_trace(
            go.Bar(name=f"{data.previous:%Y-%m}", x=now.index, y=before, marker={"color": LINE}), row=1, col=1
        )
    fig.add_trace(
        go.Bar(
            name=text(lang, "chart.revenue"),
            x=now.index,
            y=now["revenue"],
            marker={"color": "#2ca02c"},
            showlegend=False,
        ),
        row=1,
        col=2,
    )
    fig.update_layout(barmode="group")
    source = text(lang, data.rfm_source[0], **data.rfm_source[1])
    return _layout(fig, text(lang, "chart.rfm_segments", source=source), lang, height=480)


def _mix(
    frame: pd.DataFrame, by: str, order: list[str], money: str, money_title: str, title: str, lang: str, names=None
) -> go.Figure:
    mix = frame.groupby(by).agg(customers=(by, "size"), revenue=(money, "sum"))
    mix = mix.reindex([k for k in order if k in mix.index])
    labels = [names(k) for k in mix.index] if names else list(mix.index)
    fig = make_subplots(
        rows=1,
        cols=2,
        specs=[[{"type": "domain"}, {"type": "xy"}]],
        subplot_titles=(text(lang, "chart.customers"), money_title),
    )
    fig.add_trace(go.Pie(labels=labels, values=mix["customers"], sort=False, name="customers"), row=1, col=1)
    fig.add_trace(
        go.Bar(x=labels, y=mix["revenue"], name=money_title, marker={"color": PLAIN}, showlegend=False), row=1, col=2
    )
    return _layout(fig, title, lang)


def tier_mix(data: MonthData, lang: str) -> go.Figure | None:
    if data.rfm.empty:
        return None
    source = text(lang, data.rfm_source[0], **data.rfm_source[1])
    return _mix(
        data.rfm,
        "customer_tier",
        TIER_ORDER,
        "revenue_365d",
        text(lang, "chart.revenue_365d"),
        text(lang, "chart.tier_mix", source=source),
        lang,
        names=lambda tier: tier_name(lang, tier),
    )


def loyalty_mix(data: MonthData, lang: str) -> go.Figure | None:
    if data.loyalty.empty:
        return None
    order = list(data.loyalty.sort_values("tier_rank")["loyalty_tier"].drop_duplicates())
    return _mix(
        data.loyalty,
        "loyalty_tier",
        order,
        "lifetime_revenue",
        text(lang, "chart.lifetime_revenue"),
        text(lang, "chart.loyalty_mix", as_of=data.as_of),
        lang,
    )


def churn_chart(data: MonthData, lang: str) -> go.Figure | None:
    if data.churn.empty:
        return None
    streak = int(seed_value("care_thresholds", "churn_streak_months"))
    streaks = data.churn.groupby("decline_streak").size().reindex(range(streak + 1), fill_value=0)
    warned = data.churn[flag(data.churn["churn_warning"])]
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=(text(lang, "chart.decline_months"), text(lang, "chart.warned_spend"))
    )
    fig.add_trace(
        go.Bar(
            x=[text(lang, "chart.months", n=k) for k in streaks.index],
            y=streaks.values,
            name="customers",
            marker={"color": [FLAGGED if k >= streak else PLAIN for k in streaks.index]},
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
        fig.add_trace(
            go.Bar(name=tier_name(lang, tier), x=months, y=[float(part[f"spend_{m}"].sum()) for m in months]),
            row=1,
            col=2,
        )
    if warned.empty:
        fig.add_annotation(text=text(lang, "chart.nobody"), showarrow=False, x=0.78, y=0.5, xref="paper", yref="paper")
    fig.update_layout(barmode="stack")
    return _layout(fig, text(lang, "chart.churn_chart", month=f"{data.month:%Y-%m}"), lang)


def nps_trend(data: MonthData, lang: str) -> go.Figure | None:
    if data.nps.empty:
        return None
    fig = go.Figure()
    answers = text(lang, "hover.answers")
    for key, rows in data.nps.groupby("grain_key", sort=False):
        rows = rows.sort_values("month")
        fig.add_trace(
            go.Scatter(
                name=text(lang, "chart.all_customers")
                if key == "all"
                else text(lang, "chart.tier", tier=tier_name(lang, key)),
                x=[m.isoformat() for m in rows["month"]],
                y=rows["nps"],
                mode="lines+markers",
                error_y={"type": "data", "array": rows["nps_moe_95"], "visible": True},
                customdata=rows["responses"],
                hovertemplate="%{x}: NPS %{y:.1f} ± %{error_y.array:.1f} (%{customdata} "
                + answers
                + ")<extra></extra>",
                line={"width": 3 if key == "all" else 1.5},
            )
        )
    fig.update_xaxes(title=text(lang, "axis.month"), type="category")
    fig.update_yaxes(title=text(lang, "axis.nps"), range=[-100, 100])
    return _layout(fig, text(lang, "chart.nps_trend"), lang, height=460)
