"""The two report pages as self-contained HTML (plotly.js inline once per page, no network), written
atomically into `$SALESMP_SITE/reports/YYYY-MM/`."""

from __future__ import annotations

import html
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio

from dagster_project.publish.coverage import feeds_sentence
from dagster_project.reports import figures
from dagster_project.reports.month_data import MonthData, month_end
from dagster_project.reports.summary import channel_summary, churn_figures, customer_summary

STYLE = """
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:0 auto;max-width:1200px;padding:24px;
color:#212529}
header{border-bottom:2px solid #dee2e6;margin-bottom:16px}h1{margin-bottom:4px}
.meta{color:#6c757d;font-size:14px}.note{color:#495057;font-size:14px}
section{margin:28px 0}.empty{background:#f8f9fa;border-left:4px solid #adb5bd;padding:12px}
.summary li{margin:4px 0}.figures{display:flex;gap:24px;flex-wrap:wrap}
.figure{background:#f1f3f5;border-radius:6px;padding:12px 18px}.figure b{display:block;font-size:22px}
"""


@dataclass
class Section:
    heading: str
    chart: Callable[[MonthData], go.Figure | None]
    note: str = ""
    empty: str = "No rows for this month."
    note_key: str = ""
    feeds: tuple[str, ...] = ()  # the feeds the chart is drawn from: an undelivered one is said instead


def empty_sentence(data: MonthData, section: Section) -> str:
    """Why a section has no chart: the feeds it needs that never delivered a row, else its own note."""
    lacking = [f for f in section.feeds if f in data.undelivered]
    if lacking:
        sentence = feeds_sentence(lacking)
        return f"{sentence[0].upper()}{sentence[1:]}, so this chart is empty (see feed_coverage)."
    return data.notes.get(section.note_key, section.empty)


CHANNEL_SECTIONS = [
    Section(
        "Channel funnels",
        figures.traffic_funnel,
        "Traffic of the month summed per channel type (mart_channel_funnel).",
        feeds=("channel_activity",),
    ),
    Section(
        "Lead funnels",
        figures.lead_funnel,
        "Leads of the month's cohort (mart_channel_funnel).",
        "No lead cohort this month.",
        feeds=("leads",),
    ),
    Section(
        "CAC against CLV",
        figures.cac_against_clv,
        "Channels with new customers and a CLV cohort (mart_channel_health); red: cac_over_30pct_clv.",
        "No channel has both a CAC and a CLV this month.",
        feeds=("orders", "channel_activity"),
    ),
    Section(
        "ROI ranking",
        figures.roi_ranking,
        "Channels with spend (mart_channel_health.roi_top_20pct).",
        "No channel had spend this month.",
        feeds=("orders", "channel_activity"),
    ),
    Section(
        "Channel conflict",
        figures.conflict_chart,
        "Judged partner orders (mart_channel_conflict).",
        "No judged partner orders this month.",
        feeds=("orders",),
    ),
    Section("KPI scorecard", figures.kpi_scorecard, "The all-channels row of mart_sales_kpis.", feeds=("orders",)),
    Section(
        "KPIs per channel",
        figures.kpis_by_channel,
        "Channel rows of mart_sales_kpis.",
        "No channel has a sales target this month.",
        feeds=("sales_targets",),
    ),
    Section(
        "Complaint SLAs",
        figures.sla_by_channel,
        "Shares over the tickets whose limit had passed (mart_complaint_sla_monthly).",
        "No complaint with a channel was opened this month.",
        feeds=("complaints",),
    ),
]

CUSTOMER_SECTIONS = [
    Section(
        "RFM segments",
        figures.rfm_segments,
        "Segment sizes and their lifetime revenue (monetary).",
        "No RFM snapshot for this month.",
        feeds=("orders",),
    ),
    Section(
        "Customer tiers",
        figures.tier_mix,
        "Tier of each buyer in the same snapshot.",
        "No RFM snapshot for this month.",
        feeds=("orders",),
    ),
    Section(
        "Loyalty tiers",
        figures.loyalty_mix,
        "mart_loyalty: every customer of the customer master.",
        note_key="loyalty",
        feeds=("customers",),
    ),
    Section(
        "Churn warning",
        figures.churn_chart,
        "mart_churn_warning: buyers of the last four complete months; warned at three months in a row "
        "of spend down 20% or more.",
        note_key="churn",
        feeds=("orders",),
    ),
    Section(
        "NPS trend",
        figures.nps_trend,
        "mart_nps, all customers and per tier, the last 12 months.",
        "No survey answers up to this month.",
        feeds=("surveys",),
    ),
]


def _figure_html(fig: go.Figure, div_id: str, first: bool) -> str:
    return pio.to_html(
        fig,
        full_html=False,
        include_plotlyjs=first,
        div_id=div_id,
        config={"displaylogo": False, "responsive": True},
        default_width="100%",
    )


def _churn_headline(data: MonthData) -> str:
    if data.churn.empty:
        return ""
    f = churn_figures(data.churn)
    cells = [
        ("customers on the churn-warning list", f"{f['warned']:,}"),
        ("revenue at risk per month (their m3 spend)", f"{f['revenue_at_risk']:,.2f} yuan"),
        ("their lifetime revenue", f"{f['warned_monetary']:,.2f} yuan"),
        ("recent buyers watched", f"{f['customers']:,}"),
    ]
    return (
        '<div class="figures">'
        + "".join(
            f'<div class="figure" data-figure="{html.escape(label)}"><b>{html.escape(value)}</b>'
            f"{html.escape(label)}</div>"
            for label, value in cells
        )
        + "</div>"
    )


def render_page(data: MonthData, title: str, sections: list[Section], summary: list[str], slug: str) -> str:
    meta = (
        f"Month {data.month:%Y-%m}. Data as of D = {data.as_of or 'n/a'}; serving build "
        f"{data.build_id or 'n/a'} published {data.published_at or 'n/a'}."
    )
    if data.as_of is not None and data.month <= data.as_of < month_end(data.month):
        meta += f" The month is not complete: its figures are month to date (up to {data.as_of})."
    parts = [
        f'<header><h1>{html.escape(title)} — {data.month:%Y-%m}</h1><p class="meta">{html.escape(meta)}</p></header>'
    ]
    if not data.has_data:
        parts.append(
            f'<section id="summary"><p class="empty">No data was published for {data.month:%Y-%m}: the '
            "serving database has no rows for this month, so this report has no charts.</p></section>"
        )
    else:
        items = "".join(f"<li>{html.escape(line)}</li>" for line in summary)
        parts.append(
            f'<section id="summary" class="summary"><h2>What changed since {data.previous:%Y-%m}</h2>'
            f"<ul>{items}</ul></section>"
        )
        first = True
        for section in sections:
            fig = section.chart(data)
            body = f'<p class="note">{html.escape(section.note)}</p>' if section.note else ""
            if section.chart is figures.churn_chart:
                body += _churn_headline(data)
            if fig is None:
                body += f'<p class="empty">{html.escape(empty_sentence(data, section))}</p>'
            else:
                body += _figure_html(fig, f"{slug}-{section.chart.__name__}", first)
                first = False
            parts.append(f"<section><h2>{html.escape(section.heading)}</h2>{body}</section>")
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} {data.month:%Y-%m}</title><style>{STYLE}</style></head>"
        f"<body>{''.join(parts)}</body></html>\n"
    )


def write_atomically(path: Path, text: str) -> None:
    """Write beside the target, fsync, then rename over it: a reader sees the old page or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_reports(data: MonthData, site: Path) -> dict[str, Path]:
    folder = site / "reports" / f"{data.month:%Y-%m}"
    pages = {
        "channel_efficiency": render_page(
            data, "Channel efficiency report", CHANNEL_SECTIONS, channel_summary(data), "channel"
        ),
        "customer_value": render_page(
            data, "Customer value white paper", CUSTOMER_SECTIONS, customer_summary(data), "customer"
        ),
    }
    paths = {}
    for name, text in pages.items():
        paths[name] = folder / f"{name}.html"
        write_atomically(paths[name], text)
    return paths
