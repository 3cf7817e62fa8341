"""Every sentence, heading and chart label of the monthly reports, in Chinese and in English.

One catalogue: `text(lang, key, **figures)` formats the entry of `key` in `lang`. The figures and
thresholds put into the sentences come from the marts and the seeds (`threshold_figures`), never
from this file. `SALESMP_REPORT_LANG` (`zh` or `en`, default `zh`) chooses the language of
`<report>.html`; both languages are always written as `<report>.zh.html` and `<report>.en.html`.
The default is Chinese because the teams who read these reports work in Chinese and the channel
master names the channels in Chinese.
"""

from __future__ import annotations

import os
from decimal import Decimal

from dagster_project.errors import UserError

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
LANG_VAR = "SALESMP_REPORT_LANG"

# key: (English, Chinese). Placeholders are str.format fields filled by the caller.
CATALOGUE: dict[str, tuple[str, str]] = {
    # page
    "title.channel_efficiency": ("Channel efficiency report", "渠道效能月报"),
    "title.customer_value": ("Customer value white paper", "客户价值白皮书"),
    "meta": (
        "Month {month}. Data as of D = {as_of}; serving build {build} published {published}.",
        "月份 {month}。数据截至 D = {as_of}；服务库构建 {build}，发布于 {published}。",
    ),
    "meta.incomplete": (
        " The month is not complete: its figures are month to date (up to {as_of}).",
        "本月尚未结束：各项数字为月初至今（截至 {as_of}）。",
    ),
    "page.no_data": (
        "No data was published for {month}: the serving database has no rows for this month, so this "
        "report has no charts.",
        "{month} 没有发布任何数据：服务库中没有该月的行，因此本报告没有图表。",
    ),
    "page.what_changed": ("What changed since {previous}", "与 {previous} 相比的变化"),
    "page.other_language": ("中文版", "English version"),
    "none": ("none", "无"),
    "n/a": ("n/a", "无"),
    "list.sep": (", ", "、"),
    "money": ("{amount} yuan", "{amount} 元"),
    "empty.default": ("No rows for this month.", "本月没有数据。"),
    "empty.feeds": (
        "No {feeds} feed delivered, so this chart is empty (see feed_coverage).",
        "{feeds}数据源从未交付任何行，因此此图为空（见 feed_coverage）。",
    ),
    "feeds.or": (" or ", "或"),
    "feed.customers": ("customer", "客户"),
    "feed.channels": ("channel", "渠道"),
    "feed.channel_activity": ("channel activity", "渠道活动"),
    "feed.leads": ("lead", "线索"),
    "feed.orders": ("order", "订单"),
    "feed.surveys": ("survey", "问卷"),
    "feed.complaints": ("complaint", "投诉"),
    "feed.sales_targets": ("sales target", "销售目标"),
    # sections: heading, note, empty sentence
    "sec.traffic_funnel": ("Channel funnels", "渠道漏斗"),
    "note.traffic_funnel": (
        "Traffic of the month summed per channel type (mart_channel_funnel).",
        "本月流量按渠道类型汇总（mart_channel_funnel）。",
    ),
    "sec.lead_funnel": ("Lead funnels", "线索漏斗"),
    "note.lead_funnel": ("Leads of the month's cohort (mart_channel_funnel).", "本月线索批次（mart_channel_funnel）。"),
    "empty.lead_funnel": ("No lead cohort this month.", "本月没有线索批次。"),
    "sec.cac_against_clv": ("CAC against CLV", "获客成本（CAC）对比客户终身价值（CLV）"),
    "note.cac_against_clv": (
        "Channels with new customers and a CLV cohort (mart_channel_health); red: cac_over_30pct_clv.",
        "有新客户且有 CLV 批次的渠道（mart_channel_health）；红色：cac_over_30pct_clv。",
    ),
    "empty.cac_against_clv": (
        "No channel has both a CAC and a CLV this month.",
        "本月没有同时具备 CAC 和 CLV 的渠道。",
    ),
    "sec.roi_ranking": ("ROI ranking", "投资回报率（ROI）排名"),
    "note.roi_ranking": (
        "Channels with spend (mart_channel_health.roi_top_20pct).",
        "有投入的渠道（mart_channel_health.roi_top_20pct）。",
    ),
    "empty.roi_ranking": ("No channel had spend this month.", "本月没有渠道有投入。"),
    "sec.conflict_chart": ("Channel conflict", "渠道冲突"),
    "note.conflict_chart": (
        "Judged partner orders (mart_channel_conflict).",
        "已判定的合作伙伴订单（mart_channel_conflict）。",
    ),
    "empty.conflict_chart": ("No judged partner orders this month.", "本月没有已判定的合作伙伴订单。"),
    "sec.kpi_scorecard": ("KPI scorecard", "销售 KPI 记分卡"),
    "note.kpi_scorecard": ("The all-channels row of mart_sales_kpis.", "mart_sales_kpis 的全渠道行。"),
    "sec.kpis_by_channel": ("KPIs per channel", "各渠道 KPI"),
    "note.kpis_by_channel": ("Channel rows of mart_sales_kpis.", "mart_sales_kpis 的渠道行。"),
    "empty.kpis_by_channel": ("No channel has a sales target this month.", "本月没有渠道设定销售目标。"),
    "sec.sla_by_channel": ("Complaint SLAs", "投诉服务时限（SLA）"),
    "note.sla_by_channel": (
        "Shares over the tickets whose limit had passed (mart_complaint_sla_monthly).",
        "占已过时限工单的比例（mart_complaint_sla_monthly）。",
    ),
    "empty.sla_by_channel": (
        "No complaint with a channel was opened this month.",
        "本月没有带渠道的投诉工单。",
    ),
    "sec.rfm_segments": ("RFM segments", "RFM 客户分群"),
    "note.rfm_segments": (
        "Segment sizes and their lifetime revenue (monetary).",
        "各分群人数及其累计消费额（monetary）。",
    ),
    "empty.rfm_segments": ("No RFM snapshot for this month.", "本月没有 RFM 快照。"),
    "sec.tier_mix": ("Customer tiers", "客户分层"),
    "note.tier_mix": ("Tier of each buyer in the same snapshot.", "同一快照中每位购买客户的分层。"),
    "sec.loyalty_mix": ("Loyalty tiers", "会员忠诚度等级"),
    "note.loyalty_mix": (
        "mart_loyalty: every customer of the customer master.",
        "mart_loyalty：客户主数据中的全部客户。",
    ),
    "sec.churn_chart": ("Churn warning", "流失预警"),
    "note.churn_chart": (
        "mart_churn_warning: buyers of the last four complete months; warned at {streak} months in a row "
        "of spend down {decline} or more.",
        "mart_churn_warning：最近四个完整月份的购买客户；连续 {streak} 个月消费下降 {decline} 或以上即预警。",
    ),
    "sec.nps_trend": ("NPS trend", "NPS 趋势"),
    "note.nps_trend": (
        "mart_nps, all customers and per tier, the last 12 months.",
        "mart_nps，全部客户及各分层，最近 12 个月。",
    ),
    "empty.nps_trend": ("No survey answers up to this month.", "截至本月没有问卷回答。"),
    # notes of the snapshot marts (month_data)
    "note.churn_elsewhere": (
        "The churn-warning list is kept for the last complete month as of D = {as_of}, which is {m0}; "
        "it is in that month's report.",
        "流失预警名单只保留截至 D = {as_of} 的最后一个完整月份，即 {m0}；请见该月的报告。",
    ),
    "note.loyalty_elsewhere": (
        "Loyalty tiers are kept as of D = {as_of} only; they are shown in the reports of {m0} and {d_month}.",
        "忠诚度等级只保留截至 D = {as_of} 的状态；见 {m0} 和 {d_month} 的报告。",
    ),
    "rfm.month_end": (
        "as of the month end {day} (mart_customer_rfm_history)",
        "截至月末 {day}（mart_customer_rfm_history）",
    ),
    "rfm.month_to_date": (
        "month to date, as of D = {as_of} (mart_customer_rfm; the month is not complete)",
        "月初至今，截至 D = {as_of}（mart_customer_rfm；本月尚未结束）",
    ),
    "rfm.none": (
        "no snapshot: the month is after the as-of date of the data",
        "无快照：该月晚于数据的截至日期",
    ),
    # churn headline figures
    "fig.warned": ("customers on the churn-warning list", "流失预警名单上的客户"),
    "fig.at_risk": ("revenue at risk per month (their m3 spend)", "每月风险收入（其 m3 月消费）"),
    "fig.warned_monetary": ("their lifetime revenue", "他们的累计消费额"),
    "fig.watched": ("recent buyers watched", "被观察的近期购买客户"),
    # summary sentences
    "sum.no_channel_rows": ("No channel rows were published for {month}.", "{month} 没有发布渠道数据。"),
    "sum.nothing_compared": (
        "No channel rows of {previous} were published, so nothing is compared.",
        "{previous} 没有发布渠道数据，因此不作比较。",
    ),
    "sum.cac_flag": (
        "CAC above {ratio} of CLV: {count} channel(s) this month",
        "CAC 高于 CLV 的 {ratio}：本月 {count} 个渠道",
    ),
    "sum.cac_flag_changes": (
        "; turned on since {previous}: {on}; turned off: {off}.",
        "；自 {previous} 以来新增：{on}；解除：{off}。",
    ),
    "sum.cac_flag_list": (": {ids}.", "：{ids}。"),
    "sum.optimise": (
        "Optimisation required (flag on for {months} months or more in a row): {ids}.",
        "需要优化（连续 {months} 个月或以上亮灯）：{ids}。",
    ),
    "sum.roi_top": ("ROI top {share}: {ids}", "ROI 前 {share}：{ids}"),
    "sum.roi_top_changes": (
        "; entered since {previous}: {on}; left: {off}.",
        "；自 {previous} 以来进入：{on}；退出：{off}。",
    ),
    "sum.end": (".", "。"),
    "sum.funnel": (
        "Funnel below its channel-type benchmark, newly: {on}; recovered: {off}.",
        "漏斗低于其渠道类型基准，新增：{on}；恢复：{off}。",
    ),
    "sum.conflict": (
        "Channel conflict: {count} partner channel(s) sold outside their regions ({orders} orders, {revenue}); "
        "new since {previous}: {new}.",
        "渠道冲突：{count} 个合作伙伴渠道在授权区域外销售（{orders} 笔订单，{revenue}）；"
        "自 {previous} 以来新增：{new}。",
    ),
    "sum.kpis": (
        "KPI scorecard: {met} of {total} KPIs met ({names})",
        "KPI 记分卡：{total} 项 KPI 达成 {met} 项（{names}）",
    ),
    "sum.kpis_changes": (
        ", against {before} in {previous}; newly met: {newly}; no longer met: {lost}",
        "，{previous} 为 {before} 项；新达成：{newly}；不再达成：{lost}",
    ),
    "sum.sla": (
        "Complaints: {tickets} tickets, answered within the response limit {responded}, resolved within the "
        "resolution limit {resolved}",
        "投诉：{tickets} 张工单，{response_limit}内响应 {responded}，{resolution_limit}内解决 {resolved}",
    ),
    "sum.sla_before": (" (in {previous}: {responded} and {resolved})", "（{previous}：{responded} 和 {resolved}）"),
    "sum.sla_open": ("; {open} still open.", "；{open} 张仍未关闭。"),
    "sum.segments": (
        "RFM segments since {previous}: grew {grew}; shrank {shrank}.",
        "自 {previous} 以来 RFM 分群：增长 {grew}；减少 {shrank}。",
    ),
    "sum.tiers": ("Buyers by tier: {tiers} against {previous}.", "各分层购买客户：{tiers}（对比 {previous}）。"),
    "sum.segments_first": (
        "RFM segments: {buyers} buyers; no snapshot of {previous} to compare with.",
        "RFM 分群：{buyers} 位购买客户；没有 {previous} 的快照可比较。",
    ),
    "sum.nps": (
        "NPS {nps} (margin of error ±{moe}, {answers} answers)",
        "NPS {nps}（误差范围 ±{moe}，{answers} 份回答）",
    ),
    "sum.nps_change": (", {change} against {previous}", "，较 {previous} {change}"),
    "sum.nps_within": (" (within the margin of error)", "（在误差范围内）"),
    "sum.churn": (
        "Churn warning: {warned} customer(s) with {streak} months of spend down {decline} or more (of {customers} "
        "recent buyers); revenue at risk {at_risk} a month (their spend in m3, before the decline).",
        "流失预警：{warned} 位客户连续 {streak} 个月消费下降 {decline} 或以上（共 {customers} 位近期购买客户）；"
        "每月风险收入 {at_risk}（下降前 m3 月的消费）。",
    ),
    "sum.loyalty": ("Loyalty tiers as of D = {as_of}: {tiers}.", "截至 D = {as_of} 的忠诚度等级：{tiers}。"),
    "sum.no_customer_rows": ("No customer rows were published for {month}.", "{month} 没有发布客户数据。"),
    # KPI names
    "kpi.attainment_ok": ("revenue attainment", "收入达成率"),
    "kpi.new_customers_ok": ("new customers", "新客户数"),
    "kpi.retention_ok": ("retention", "留存率"),
    "kpi.repeat_purchase_ok": ("repeat purchase rate", "复购率"),
    "kpi.cycle_days_ok": ("sales cycle", "销售周期"),
    "kpi.aov_growth_ok": ("average order value growth", "客单价增长"),
    "kpi.csat_ok": ("CSAT", "客户满意度（CSAT）"),
    "kpirow.attainment": ("Revenue attainment", "收入达成率"),
    "kpirow.new_customers": ("New customers", "新客户数"),
    "kpirow.retention_rate": ("Retention rate", "留存率"),
    "kpirow.repeat_purchase_rate": ("Repeat purchase rate", "复购率"),
    "kpirow.cycle_days_median": ("Sales cycle median (days)", "销售周期中位数（天）"),
    "kpirow.aov_growth_yoy": ("AOV growth year on year", "客单价同比增长"),
    "kpirow.csat": ("CSAT", "客户满意度（CSAT）"),
    "kpi.header": ("KPI|value|target|status", "KPI|数值|目标|状态"),
    "kpi.met": ("met", "达成"),
    "kpi.missed": ("missed", "未达成"),
    "kpi.of_target": ("≥ {share} of {target}", "≥ {target} 的 {share}"),
    # chart titles, axes and traces
    "stage.visits": ("Visits", "访问"),
    "stage.inquiries": ("Inquiries", "咨询"),
    "stage.carts": ("Carts", "加购"),
    "stage.orders": ("Orders", "下单"),
    "stage.repeat_buyers": ("Repeat buyers", "复购客户"),
    "stage.leads_created": ("Created", "新建"),
    "stage.leads_qualified": ("Qualified", "合格"),
    "stage.leads_proposal": ("Proposal", "方案"),
    "stage.leads_won": ("Won", "赢单"),
    "chart.traffic_funnel": (
        "Traffic funnel by channel type (visits → repeat buyers)",
        "各渠道类型流量漏斗（访问 → 复购客户）",
    ),
    "chart.lead_funnel": (
        "Lead funnel of the month's cohort by channel type (created → won)",
        "本月线索批次的各渠道类型漏斗（新建 → 赢单）",
    ),
    "chart.cac_over": ("CAC > {ratio} of CLV", "CAC > CLV 的 {ratio}"),
    "chart.within": ("within", "未超出"),
    "chart.cac_line": ("CAC = {ratio} of CLV", "CAC = CLV 的 {ratio}"),
    "axis.clv": ("CLV (yuan)", "CLV（元）"),
    "axis.cac": ("CAC (yuan)", "CAC（元）"),
    "chart.cac_against_clv": (
        "CAC against CLV per channel, with the {ratio} line",
        "各渠道 CAC 对比 CLV，含 {ratio} 参考线",
    ),
    "chart.top": (" ★ top {share}", " ★ 前 {share}"),
    "axis.roi": ("ROI (revenue / spend)", "ROI（收入 / 投入）"),
    "chart.roi_ranking": (
        "ROI ranking (red: top {share} of channels with a ROI)",
        "ROI 排名（红色：有 ROI 的渠道中前 {share}）",
    ),
    "chart.conflict_share": (
        "Share of partner orders outside the authorized regions",
        "授权区域外的合作伙伴订单占比",
    ),
    "chart.conflict_revenue": ("Conflict revenue (yuan)", "冲突收入（元）"),
    "chart.conflict_chart": (
        "Channel conflict: partner sales shipped outside authorized regions",
        "渠道冲突：合作伙伴在授权区域外发货的销售",
    ),
    "chart.responded": ("answered within the response limit", "在响应时限内响应"),
    "chart.resolved": ("resolved within the resolution limit", "在解决时限内解决"),
    "chart.sla_by_channel": (
        "Complaint SLAs by channel (tickets opened in the month)",
        "各渠道投诉 SLA（本月新开工单）",
    ),
    "chart.kpi_scorecard": (
        "KPI scorecard, all channels: {met} of {total} met",
        "KPI 记分卡（全渠道）：{total} 项达成 {met} 项",
    ),
    "axis.kpis_met": ("KPIs met", "达成的 KPI 数"),
    "chart.kpis_by_channel": ("KPIs met per channel with a sales target", "有销售目标的各渠道 KPI 达成数"),
    "chart.customers_per_segment": ("Customers per segment", "各分群客户数"),
    "chart.revenue_per_segment": ("Lifetime revenue per segment", "各分群累计消费额"),
    "chart.revenue": ("revenue", "收入"),
    "chart.rfm_segments": ("RFM segments ({source})", "RFM 客户分群（{source}）"),
    "chart.customers": ("Customers", "客户数"),
    "chart.revenue_365d": ("Revenue of the last 365 days (yuan)", "近 365 天收入（元）"),
    "chart.tier_mix": ("Customer tiers of the buyers ({source})", "购买客户的分层（{source}）"),
    "chart.lifetime_revenue": ("Lifetime revenue (yuan)", "累计消费额（元）"),
    "chart.loyalty_mix": (
        "Loyalty tiers of the known customers (as of D = {as_of})",
        "已知客户的忠诚度等级（截至 D = {as_of}）",
    ),
    "chart.decline_months": ("Recent buyers by months of declining spend", "按消费连续下降月数划分的近期购买客户"),
    "chart.warned_spend": ("Warned customers' monthly spend, m3 → m0 (yuan)", "被预警客户的月消费，m3 → m0（元）"),
    "chart.months": ("{n} month(s)", "{n} 个月"),
    "chart.nobody": ("nobody is on the list", "名单为空"),
    "chart.churn_chart": ("Churn warning for {month} (m0)", "{month}（m0）的流失预警"),
    "chart.all_customers": ("all customers", "全部客户"),
    "chart.tier": ("tier {tier}", "{tier}"),
    "axis.month": ("month", "月份"),
    "axis.nps": ("NPS (95% margin of error)", "NPS（95% 误差范围）"),
    "chart.nps_trend": ("NPS trend with 95% margins of error", "NPS 趋势及 95% 误差范围"),
    "hover.orders_of": ("{a} of {b} orders", "{b} 笔订单中的 {a} 笔"),
    "hover.due_tickets": ("of due tickets", "的到期工单"),
    "hover.opened": ("opened", "张新开"),
    "hover.kpis_met": ("KPIs met", "项 KPI 达成"),
    "hover.attainment": ("attainment", "达成率"),
    "hover.answers": ("answers", "份回答"),
}

# How the reports name the customer tiers (the marts' values are strategic, growth, potential).
TIER_NAMES = {
    "strategic": ("strategic", "战略客户"),
    "growth": ("growth", "成长客户"),
    "potential": ("potential", "潜力客户"),
}


def report_lang(value: str | None = None) -> str:
    """The report language of `<report>.html`: SALESMP_REPORT_LANG, `zh` when unset."""
    lang = (value if value is not None else os.environ.get(LANG_VAR, "")).strip().lower() or DEFAULT_LANG
    if lang not in LANGS:
        raise UserError(f"{LANG_VAR}={lang!r} is not a report language; use zh (Chinese, the default) or en.")
    return lang


def text(lang: str, key: str, **figures) -> str:
    """The catalogue entry `key` in `lang`, with its placeholders filled."""
    english, chinese = CATALOGUE[key]
    return (chinese if lang == "zh" else english).format(**figures)


def join(lang: str, items) -> str:
    """A list of names in running text ("none" when empty)."""
    items = list(items)
    return text(lang, "list.sep").join(items) if items else text(lang, "none")


def tier_name(lang: str, tier: str) -> str:
    names = TIER_NAMES.get(tier)
    return tier if names is None else names[1 if lang == "zh" else 0]


def percent(share: Decimal | float) -> str:
    """A threshold share from a seed as the reports print it: 0.3 -> 30%, 0.125 -> 12.5%."""
    value = Decimal(str(share)) * 100
    return f"{value.normalize():f}%"


def money(lang: str, amount: Decimal) -> str:
    """An exact amount in yuan, to the cent, with thousands separators."""
    return text(lang, "money", amount=f"{Decimal(amount).quantize(Decimal('0.01')):,.2f}")
