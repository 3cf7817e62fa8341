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

from dagster_project.reports import figures
from dagster_project.reports.messages import CATALOGUE, LANGS, money, report_lang, text
from dagster_project.reports.month_data import MonthData, month_end
from dagster_project.reports.summary import channel_summary, churn_figures, customer_summary, thresholds

STYLE = """
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:0 auto;max-width:1200px;padding:24px;
color:#212529}
header{border-bottom:2px solid #dee2e6;margin-bottom:16px}h1{margin-bottom:4px}
.meta{color:#6c757d;font-size:14px}.note{color:#495057;font-size:14px}
.lang{float:right;font-size:14px}
section{margin:28px 0}.empty{background:#f8f9fa;border-left:4px solid #adb5bd;padding:12px}
.summary li{margin:4px 0}.figures{display:flex;gap:24px;flex-wrap:wrap}
.figure{background:#f1f3f5;border-radius:6px;padding:12px 18px}.figure b{display:block;font-size:22px}
"""


@dataclass
class Section:
    """A chart of a page; its heading, note and empty sentence are the messages.py entries
    `sec.<chart>`, `note.<chart>` and `empty.<chart>` (or `empty.default`)."""

    chart: Callable[[MonthData, str], go.Figure | None]
    note_key: str = ""  # MonthData.notes key whose sentence replaces the empty one
    feeds: tuple[str, ...] = ()  # the feeds the chart is drawn from: an undelivered one is said instead

    @property
    def name(self) -> str:
        return self.chart.__name__

    def heading(self, lang: str) -> str:
        return text(lang, f"sec.{self.name}")

    def note(self, lang: str) -> str:
        if self.chart is figures.churn_chart:
            th = thresholds()
            return text(lang, "note.churn_chart", streak=th["streak"], decline=th["decline"])
        return text(lang, f"note.{self.name}") if f"note.{self.name}" in CATALOGUE else ""


def empty_sentence(data: MonthData, section: Section, lang: str) -> str:
    """Why a section has no chart: the feeds it needs that never delivered a row, else its own note."""
    lacking = [f for f in section.feeds if f in data.undelivered]
    if lacking:
        names = [text(lang, f"feed.{f}") if f"feed.{f}" in CATALOGUE else f for f in lacking]
        listed = text(lang, "feeds.or").join(
            [text(lang, "list.sep").join(names[:-1]), names[-1]] if len(names) > 1 else names
        )
        return text(lang, "empty.feeds", feeds=listed)
    if section.note_key in data.notes:
        key, figures_ = data.notes[section.note_key]
        return text(lang, key, **figures_)
    key = f"empty.{section.name}"
    return text(lang, key if key in CATALOGUE else "empty.default")


CHANNEL_SECTIONS = [
    Section(figures.traffic_funnel, feeds=("channel_activity",)),
    Section(figures.lead_funnel, feeds=("leads",)),
    Section(figures.cac_against_clv, feeds=("orders", "channel_activity")),
    Section(figures.roi_ranking, feeds=("orders", "channel_activity")),
    Section(figures.conflict_chart, feeds=("orders",)),
    Section(figures.kpi_scorecard, feeds=("orders",)),
    Section(figures.kpis_by_channel, feeds=("sales_targets",)),
    Section(figures.sla_by_channel, feeds=("complaints",)),
]

CUSTOMER_SECTIONS = [
    Section(figures.rfm_segments, feeds=("orders",)),
    Section(figures.tier_mix, feeds=("orders",)),
    Section(figures.loyalty_mix, note_key="loyalty", feeds=("customers",)),
    Section(figures.churn_chart, note_key="churn", feeds=("orders",)),
    Section(figures.nps_trend, feeds=("surveys",)),
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


def _churn_headline(data: MonthData, lang: str) -> str:
    if data.churn.empty:
        return ""
    f = churn_figures(data.churn)
    cells = [
        ("warned", text(lang, "fig.warned"), f"{f['warned']:,}"),
        ("at_risk", text(lang, "fig.at_risk"), money(lang, f["revenue_at_risk"])),
        ("warned_monetary", text(lang, "fig.warned_monetary"), money(lang, f["warned_monetary"])),
        ("watched", text(lang, "fig.watched"), f"{f['customers']:,}"),
    ]
    return (
        '<div class="figures">'
        + "".join(
            f'<div class="figure" data-figure="{key}"><b>{html.escape(value)}</b>{html.escape(label)}</div>'
            for key, label, value in cells
        )
        + "</div>"
    )


def render_page(data: MonthData, lang: str, name: str, sections: list[Section], summary: list[str]) -> str:
    title = text(lang, f"title.{name}")
    slug = name.split("_")[0]
    meta = text(
        lang,
        "meta",
        month=f"{data.month:%Y-%m}",
        as_of=data.as_of or "n/a",
        build=data.build_id or "n/a",
        published=data.published_at or "n/a",
    )
    if data.as_of is not None and data.month <= data.as_of < month_end(data.month):
        meta += text(lang, "meta.incomplete", as_of=data.as_of)
    other = next(x for x in LANGS if x != lang)
    switch = f'<a class="lang" hreflang="{other}" href="{name}.{other}.html">{text(lang, "page.other_language")}</a>'
    parts = [
        f"<header>{switch}<h1>{html.escape(title)} — {data.month:%Y-%m}</h1>"
        f'<p class="meta">{html.escape(meta)}</p></header>'
    ]
    if not data.has_data:
        parts.append(
            f'<section id="summary"><p class="empty">'
            f"{html.escape(text(lang, 'page.no_data', month=f'{data.month:%Y-%m}'))}</p></section>"
        )
    else:
        items = "".join(f"<li>{html.escape(line)}</li>" for line in summary)
        heading = text(lang, "page.what_changed", previous=f"{data.previous:%Y-%m}")
        parts.append(f'<section id="summary" class="summary"><h2>{html.escape(heading)}</h2><ul>{items}</ul></section>')
        first = True
        for section in sections:
            fig = section.chart(data, lang)
            note = section.note(lang)
            body = f'<p class="note">{html.escape(note)}</p>' if note else ""
            if section.chart is figures.churn_chart:
                body += _churn_headline(data, lang)
            if fig is None:
                body += f'<p class="empty">{html.escape(empty_sentence(data, section, lang))}</p>'
            else:
                body += _figure_html(fig, f"{slug}-{section.name}", first)
                first = False
            parts.append(
                f'<section data-chart="{section.name}"><h2>{html.escape(section.heading(lang))}</h2>{body}</section>'
            )
    html_lang = "zh-CN" if lang == "zh" else "en"
    return (
        f'<!DOCTYPE html>\n<html lang="{html_lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} {data.month:%Y-%m}</title><style>{STYLE}"
        f"body{{font-family:{figures.FONTS[lang]}}}</style></head>"
        f"<body>{''.join(parts)}</body></html>\n"
    )


def write_atomically(path: Path, text_: str) -> None:
    """Write beside the target, fsync, then rename over it: a reader sees the old page or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text_)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


PAGES = {
    "channel_efficiency": (CHANNEL_SECTIONS, channel_summary),
    "customer_value": (CUSTOMER_SECTIONS, customer_summary),
}


def write_reports(data: MonthData, site: Path, lang: str | None = None) -> dict[str, Path]:
    """Both reports of a month in both languages (`<name>.zh.html`, `<name>.en.html`) and `<name>.html`
    in `lang` (SALESMP_REPORT_LANG, default zh). Returns {name: path of <name>.html, name.zh: ..., ...}."""
    default = report_lang(lang)
    folder = site / "reports" / f"{data.month:%Y-%m}"
    paths = {}
    for name, (sections, summary) in PAGES.items():
        for page_lang in LANGS:
            page = render_page(data, page_lang, name, sections, summary(data, page_lang))
            paths[f"{name}.{page_lang}"] = folder / f"{name}.{page_lang}.html"
            write_atomically(paths[f"{name}.{page_lang}"], page)
            if page_lang == default:
                paths[name] = folder / f"{name}.html"
                write_atomically(paths[name], page)
    return paths
