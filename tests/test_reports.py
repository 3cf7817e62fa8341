"""The monthly reports on a real build: Dagster materializes each month's partition from the serving
database, headless Chromium renders every page offline, and the figures shown are checked against
pandas computations from the mart definitions (docs/reports.md, models/marts/**/_*.yml, models/core/_core.yml)."""

from __future__ import annotations

import math
import os
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests import browser

LANGS = ("zh", "en")
DATA_MONTHS = [date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1), date(2025, 4, 1)]  # the fixture's 95 days
EMPTY_MONTH = date(2024, 12, 1)  # before the first landing day
ENV_KEYS = ("SALESMP_LANDING", "SALESMP_WAREHOUSE", "SALESMP_SERVING", "SALESMP_SITE", "DAGSTER_HOME", "SALESMP_TZ")

CHARTS_JS = """
return Array.from(document.querySelectorAll('.plotly-graph-div')).map(gd => {
  const svg = gd.querySelector('svg.main-svg');
  const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  const points = (gd._fullData || []).map(t => {
    if (t.type === 'table') { return t.cells.values.reduce((n, col) => n + col.length, 0); }
    return Math.max(t._length || 0, ...['x', 'y', 'values'].map(k => (t[k] && t[k].length) || 0));
  });
  return {id: gd.id, width: box.width, height: box.height, traces: (gd.data || []).length, points: points};
});
"""


@pytest.fixture(scope="module")
def reports(built_pipeline) -> dict:
    """build_reports over the fixture's months plus one month without data, in this process, on the
    build's Dagster instance (DAGSTER_HOME of the build)."""
    saved = {k: os.environ.get(k) for k in ENV_KEYS}
    os.environ.update({k: built_pipeline["env"][k] for k in ENV_KEYS})
    try:
        import dagster as dg

        from dagster_project.reports.assets import REPORTS_KEY, build_reports

        with dg.DagsterInstance.get() as instance:
            paths = build_reports(EMPTY_MONTH, DATA_MONTHS[-1], instance=instance)
            materialized = instance.get_materialized_partitions(REPORTS_KEY)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    site = Path(built_pipeline["env"]["SALESMP_SITE"])
    return {
        "paths": paths,
        "materialized": materialized,
        "site": site,
        "serving": Path(built_pipeline["env"]["SALESMP_SERVING"]),
    }


def page(reports: dict, month: date, name: str, lang: str | None = None) -> Path:
    """<name>.html (the default language) or <name>.<lang>.html."""
    suffix = f".{lang}.html" if lang else ".html"
    return reports["site"] / "reports" / f"{month:%Y-%m}" / f"{name}{suffix}"


def channel_labels(reports: dict) -> dict[str, str]:
    """How a page names each channel: the master's current name, with the id when two share it."""
    channels = serving_frame(reports, "select channel_id, channel_name from dim_channels where is_current")
    shared = channels["channel_name"].value_counts()
    return {
        r.channel_id: (f"{r.channel_name} {r.channel_id}" if shared[r.channel_name] > 1 else r.channel_name)
        for r in channels.itertuples()
    }


def serving_frame(reports: dict, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(reports["serving"]), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def test_every_month_is_a_dagster_materialization_with_two_files(reports):
    months = [EMPTY_MONTH, *DATA_MONTHS]
    assert reports["paths"] == [page(reports, m, n) for m in months for n in ("channel_efficiency", "customer_value")]
    assert {m.isoformat() for m in months} <= set(reports["materialized"])
    for path in reports["paths"]:
        # Both languages beside it; <name>.html is the default language, Chinese (SALESMP_REPORT_LANG unset).
        zh, en = (path.with_name(path.name.replace(".html", f".{lang}.html")) for lang in LANGS)
        assert path.read_bytes() == zh.read_bytes(), path
        assert '<html lang="zh-CN">' in zh.read_text(encoding="utf-8") and '<html lang="en">' in en.read_text()
        for variant in (zh, en):
            text = variant.read_text(encoding="utf-8")
            assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
            # Self-contained: no external script, style sheet or image.
            assert not re.search(r"""<(script|link|img)[^>]+(src|href)=["']?(https?:)?//""", text), variant
    assert not list(reports["site"].glob("reports/*/.*.tmp")), "a temporary file was left behind"


def _wait_for_charts(driver) -> list[dict]:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script(
            "return document.readyState === 'complete' && Array.from(document.querySelectorAll('.plotly-graph-div'))"
            ".every(gd => gd._fullLayout && gd.querySelector('svg.main-svg'))"
        )
    )
    return driver.execute_script(CHARTS_JS)


def _screenshot(driver, name: str) -> Path:
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1600, min(max(height, 800), 12000))
    path = browser.save_screenshot(driver, name)
    driver.set_window_size(1600, 1200)
    return path


@pytest.mark.parametrize("lang", LANGS)
def test_pages_render_offline_with_data_in_every_chart(reports, lang):
    no_data = {"en": "No data was published for 2024-12", "zh": "2024-12 没有发布任何数据"}[lang]
    with browser.chromium() as driver:
        for month in [EMPTY_MONTH, *DATA_MONTHS]:
            for name in ("channel_efficiency", "customer_value"):
                path = page(reports, month, name, lang)
                browser.open_page(driver, path.as_uri())
                charts = _wait_for_charts(driver)
                where = f"{name} {month:%Y-%m} {lang}"
                assert browser.console_errors(driver) == [], where
                resources = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
                assert [r for r in resources if not r.startswith(("file:", "data:", "blob:"))] == [], where
                shot = _screenshot(driver, f"report_{name}_{month:%Y-%m}.{lang}.png")
                assert shot.stat().st_size > 10_000, where
                if month == EMPTY_MONTH:
                    assert charts == [], where
                    assert no_data in driver.page_source
                    continue
                assert len(charts) >= (6 if name == "channel_efficiency" else 3), (where, charts)
                for chart in charts:
                    assert chart["width"] > 200 and chart["height"] > 200, (where, chart)
                    assert chart["traces"] > 0 and all(n > 0 for n in chart["points"]), (where, chart)


def _declines(now: Decimal, before: Decimal) -> bool:
    # mart_churn_warning: month k declines when spend_m(k+1) > 0 and spend_mk <= 0.8 * spend_m(k+1).
    return before > 0 and now <= Decimal("0.8") * before


def test_churn_list_size_and_revenue_at_risk_match_the_mart_definition(reports):
    churn = serving_frame(
        reports,
        "select customer_id, month, cast(spend_m0 as varchar) m0, cast(spend_m1 as "
        "varchar) m1, cast(spend_m2 as varchar) m2, cast(spend_m3 as varchar) m3 "
        "from mart_churn_warning",
    )
    assert churn["month"].nunique() == 1
    m0 = pd.Timestamp(churn["month"].iloc[0]).date()
    assert m0 == date(2025, 3, 1)  # D = 2025-04-05: the last complete month is March
    spend = churn[["m0", "m1", "m2", "m3"]].map(Decimal)
    streaks = []
    for _, r in spend.iterrows():
        streak = 0
        while streak < 3 and _declines(r[f"m{streak}"], r[f"m{streak + 1}"]):
            streak += 1
        streaks.append(streak)
    by_streak = [streaks.count(k) for k in range(4)]
    warned = spend[[s == 3 for s in streaks]]  # churn_warning: decline_streak >= 3
    at_risk = sum(warned["m3"], Decimal("0"))
    assert by_streak[1] > 0 and by_streak[2] > 0, "the fixture should have declining customers"

    money = f"{at_risk:,.2f}"
    expect = {
        "en": (f"Churn warning: {len(warned)} customer(s)", f"revenue at risk {money} yuan", f"{money} yuan",
               "kept for the last complete month"),
        "zh": (f"流失预警：{len(warned)} 位客户", f"每月风险收入 {money} 元", f"{money} 元", "只保留截至"),
    }
    with browser.chromium() as driver:
        for lang, (warned_text, at_risk_text, at_risk_figure, elsewhere) in expect.items():
            browser.open_page(driver, page(reports, m0, "customer_value", lang).as_uri())
            _wait_for_charts(driver)
            shown = dict(
                driver.execute_script(
                    "return Array.from(document.querySelectorAll('.figure')).map(e => "
                    "[e.dataset.figure, e.querySelector('b').textContent])"
                )
            )
            summary = driver.execute_script("return document.getElementById('summary').innerText")
            shown_streaks = driver.execute_script(
                "return Array.from(document.getElementById('customer-churn_chart')._fullData[0].y)"
            )
            assert shown_streaks == by_streak, lang
            assert shown["watched"] == f"{len(churn):,}", lang
            assert shown["warned"] == f"{len(warned):,}", lang
            assert shown["at_risk"] == at_risk_figure, lang
            assert warned_text in summary and at_risk_text in summary, (lang, summary)
            # Other months say where the list is instead of showing one.
            source = browser.open_page(driver, page(reports, date(2025, 2, 1), "customer_value", lang).as_uri())
            assert elsewhere in source and "2025-03" in source, lang


def test_roi_top_share_and_cac_flags_match_the_definition(reports):
    health = serving_frame(
        reports,
        "select channel_id, month, cast(revenue as varchar) revenue, cast(spend as "
        "varchar) spend, cast(cac as varchar) cac, cast(clv as varchar) clv "
        "from mart_channel_health",
    )
    health["month"] = pd.to_datetime(health["month"]).dt.date
    labels = channel_labels(reports)
    assert any(not label.isascii() for label in labels.values()), "the master names channels in Chinese"
    with browser.chromium() as driver:
        for month in DATA_MONTHS:
            rows = health[health["month"] == month]
            # ROI = revenue / spend (NULL without spend); top = rank() by ROI desc <= ceil(0.2 * channels with a ROI).
            roi = {
                r.channel_id: Decimal(r.revenue) / Decimal(r.spend) for r in rows.itertuples() if Decimal(r.spend) > 0
            }
            cut = math.ceil(Decimal("0.2") * len(roi))
            top = {c for c, v in roi.items() if 1 + sum(1 for w in roi.values() if w > v) <= cut}
            # CAC above 30% of CLV, compared exactly on the rounded money values.
            over = {
                r.channel_id
                for r in rows.itertuples()
                if pd.notna(r.cac) and pd.notna(r.clv) and Decimal(r.cac) > Decimal("0.3") * Decimal(r.clv)
            }

            for lang in LANGS:
                browser.open_page(driver, page(reports, month, "channel_efficiency", lang).as_uri())
                _wait_for_charts(driver)
                # The bars are labelled with the channel names; customdata keeps the ids.
                trace = "document.getElementById('channel-roi_ranking').data[0]"
                bars = driver.execute_script(f"return {trace}.y")
                ids = driver.execute_script(f"return {trace}.customdata")
                marked = driver.execute_script(
                    f"const t = {trace}; return t.customdata.filter((c, i) => t.text[i].includes('★'));"
                )
                summary = driver.execute_script("return document.getElementById('summary').innerText")
                where = (month, lang)
                assert set(marked) == top, where
                assert set(ids) == set(roi), where
                assert bars == [labels[c] for c in ids], where
                named_top = sorted(labels[c] for c in top)
                if lang == "en":
                    assert f"CAC above 30% of CLV: {len(over)} channel(s) this month" in summary, where
                    assert re.search(rf"ROI top 20%: {re.escape(', '.join(named_top))}[;.]", summary), where
                else:
                    assert f"CAC 高于 CLV 的 30%：本月 {len(over)} 个渠道" in summary, where
                    assert re.search(rf"ROI 前 20%：{re.escape('、'.join(named_top))}[；。]", summary), where


def test_segment_changes_in_the_summary_match_the_history(reports):
    history = serving_frame(
        reports, "select month, rfm_segment, count(*) n from mart_customer_rfm_history group by all"
    )
    history["month"] = pd.to_datetime(history["month"]).dt.date
    counts = history.pivot_table(index="rfm_segment", columns="month", values="n", fill_value=0)
    change = counts[date(2025, 3, 1)] - counts[date(2025, 2, 1)]
    grew = sorted(((s, int(n)) for s, n in change.items() if n > 0), key=lambda sn: (-sn[1], sn[0]))
    shrank = sorted(((s, int(n)) for s, n in change.items() if n < 0), key=lambda sn: (sn[1], sn[0]))
    def sentence(head: str, grew_word: str, shrank_word: str, sep: str, none: str, end: str) -> str:
        return (
            head
            + grew_word
            + (sep.join(f"{s} +{n}" for s, n in grew) or none)
            + shrank_word
            + (sep.join(f"{s} {n}" for s, n in shrank) or none)
            + end
        )

    march = date(2025, 3, 1)
    expected = sentence("RFM segments since 2025-02: ", "grew ", "; shrank ", ", ", "none", ".")
    assert expected in page(reports, march, "customer_value", "en").read_text(encoding="utf-8")
    expected_zh = sentence("自 2025-02 以来 RFM 分群：", "增长 ", "；减少 ", "、", "无", "。")
    assert expected_zh in page(reports, march, "customer_value", "zh").read_text(encoding="utf-8")


def test_chinese_pages_have_their_font_and_no_english_sentence(reports):
    """The Chinese pages ask for Noto Sans CJK SC, which fontconfig (Chromium's font source) has, and
    their summaries hold no sentence of the English catalogue."""
    import subprocess

    match = subprocess.run(["fc-match", "Noto Sans CJK SC"], capture_output=True, text=True, check=True).stdout
    assert "Noto Sans CJK" in match, match
    zh = page(reports, date(2025, 3, 1), "channel_efficiency", "zh").read_text(encoding="utf-8")
    summary = re.search(r'<section id="summary".*?</section>', zh, re.S).group(0)
    assert "Noto Sans CJK SC" in zh and "渠道效能月报" in zh
    for english in ("CAC above", "ROI top", "KPI scorecard:", "Complaints:", "Channel conflict:"):
        assert english not in summary, english


def test_report_language_setting_names_the_variable():
    from dagster_project.errors import UserError
    from dagster_project.reports.messages import report_lang

    assert report_lang("") == "zh" and report_lang("EN") == "en"
    with pytest.raises(UserError, match="SALESMP_REPORT_LANG='fr' is not a report language"):
        report_lang("fr")


def test_build_reports_refuses_with_one_sentence(tmp_path, monkeypatch):
    from dagster_project.errors import UserError
    from dagster_project.reports.assets import build_reports

    monkeypatch.setenv("SALESMP_SERVING", str(tmp_path / "missing.duckdb"))
    monkeypatch.setenv("SALESMP_SITE", str(tmp_path / "site"))
    with pytest.raises(UserError, match=r"serving database .*missing\.duckdb does not exist yet"):
        build_reports(date(2025, 1, 1), date(2025, 1, 1))
    with pytest.raises(UserError, match="is after the last"):
        build_reports(date(2025, 2, 1), date(2025, 1, 1))
    with pytest.raises(UserError, match="Report months must lie between"):
        build_reports(date(2025, 1, 1), date(2099, 1, 1))
    assert not (tmp_path / "site").exists()
