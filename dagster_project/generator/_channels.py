"""The channel matrix: a fixed catalogue of ~40 channels and the behaviour of each sub_type."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dagster_project.generator._text import REGIONS

CHANNEL_TYPE = {
    "exhibition": "direct",
    "showroom": "direct",
    "field_visit": "direct",
    "website": "direct",
    "wecom_community": "direct",
    "referral": "direct",
    "head_distributor": "partner",
    "growth_distributor": "partner",
    "agent": "partner",
    "cross_industry": "partner",
    "ecommerce": "platform",
    "live_commerce": "platform",
    "vertical_platform": "platform",
}


@dataclass(frozen=True)
class SubType:
    """Behaviour of a channel sub_type (per channel it is varied a little by the seed)."""

    b2b_w: float  # popularity among business buyers
    b2c_w: float  # popularity among consumers
    aov: float  # order value multiplier
    conv: float  # visit -> order conversion
    secs: float  # average visit duration, seconds
    nps: float  # mean NPS answer
    refund: float  # refund propensity multiplier
    complaint: float  # complaint propensity multiplier
    lead_w: float  # share of B2B leads
    funnel: tuple[float, float, float]  # created->qualified, qualified->proposal, proposal->won
    speed: float  # sales-cycle speed multiplier (smaller = faster)


SUB_TYPES: dict[str, SubType] = {
    "exhibition": SubType(1.5, 0.2, 1.3, 0.060, 900, 8.3, 0.6, 0.8, 3.0, (0.55, 0.50, 0.30), 1.0),
    "showroom": SubType(0.8, 1.2, 1.2, 0.050, 1500, 8.5, 0.6, 0.8, 1.0, (0.60, 0.55, 0.35), 0.8),
    "field_visit": SubType(2.0, 0.05, 1.5, 0.100, 3000, 8.6, 0.4, 0.7, 2.0, (0.75, 0.60, 0.40), 1.2),
    "website": SubType(0.6, 1.0, 1.0, 0.012, 110, 7.9, 1.0, 1.0, 2.5, (0.45, 0.45, 0.25), 0.6),
    "wecom_community": SubType(0.3, 1.5, 0.8, 0.030, 180, 8.4, 0.8, 0.9, 1.0, (0.55, 0.50, 0.35), 0.5),
    "referral": SubType(0.5, 0.6, 1.1, 0.080, 300, 9.1, 0.5, 0.6, 0.8, (0.90, 0.80, 0.72), 0.7),
    "head_distributor": SubType(2.5, 0.5, 1.4, 0.040, 600, 7.7, 0.8, 1.0, 1.2, (0.60, 0.50, 0.35), 1.0),
    "growth_distributor": SubType(1.2, 0.6, 1.0, 0.030, 500, 7.4, 1.0, 1.1, 0.8, (0.60, 0.50, 0.32), 1.0),
    "agent": SubType(1.0, 0.3, 1.1, 0.035, 700, 7.5, 1.0, 1.1, 1.0, (0.60, 0.50, 0.33), 1.0),
    "cross_industry": SubType(0.5, 0.4, 0.9, 0.025, 400, 7.3, 1.0, 1.0, 0.5, (0.55, 0.45, 0.30), 0.9),
    "ecommerce": SubType(0.3, 3.0, 0.7, 0.020, 150, 6.9, 1.5, 1.4, 0.3, (0.50, 0.40, 0.20), 0.3),
    "live_commerce": SubType(0.05, 2.0, 0.5, 0.012, 240, 6.3, 2.5, 1.6, 0.2, (0.45, 0.40, 0.20), 0.3),
    "vertical_platform": SubType(1.5, 0.1, 1.2, 0.018, 260, 7.0, 1.0, 1.2, 1.5, (0.55, 0.45, 0.28), 0.8),
}

# name, sub_type, region, authorized regions
CATALOG: tuple[tuple[str, str, str, str], ...] = (
    ("广州建博会展台", "exhibition", "华南", ""),
    ("上海国际展会展台", "exhibition", "华东", ""),
    ("北京行业展会展台", "exhibition", "华北", ""),
    ("杭州旗舰展厅", "showroom", "华东", ""),
    ("深圳体验展厅", "showroom", "华南", ""),
    ("成都展厅", "showroom", "西南", ""),
    ("武汉展厅", "showroom", "华中", ""),
    ("华东大客户地推团队", "field_visit", "华东", ""),
    ("华南大客户地推团队", "field_visit", "华南", ""),
    ("华北大客户地推团队", "field_visit", "华北", ""),
    ("官方网站", "website", "全国", ""),
    ("企业微信社群-会员群", "wecom_community", "全国", ""),
    ("企业微信社群-行业群", "wecom_community", "全国", ""),
    ("老客户推荐计划", "referral", "全国", ""),
    ("华东总经销-恒达商贸", "head_distributor", "华东", "华东"),
    ("华南总经销-粤海供应链", "head_distributor", "华南", "华南"),
    ("华北总经销-京通商贸", "head_distributor", "华北", "华北;东北"),
    ("西南总经销-蜀锦贸易", "head_distributor", "西南", "西南;西北"),
    ("苏州成长经销商-启航", "growth_distributor", "华东", "华东"),
    ("东莞成长经销商-鹏程", "growth_distributor", "华南", "华南"),
    ("郑州成长经销商-中原", "growth_distributor", "华中", "华中"),
    ("长沙成长经销商-湘江", "growth_distributor", "华中", "华中"),
    ("西安成长经销商-长安", "growth_distributor", "西北", "西北"),
    ("沈阳成长经销商-北方", "growth_distributor", "东北", "东北"),
    ("宁波代理商-甬信", "agent", "华东", "华东"),
    ("厦门代理商-鹭岛", "agent", "华南", "华南"),
    ("重庆代理商-山城", "agent", "西南", "西南"),
    ("天津代理商-津门", "agent", "华北", "华北"),
    ('异业联盟-"家居生活"联名', "cross_industry", "华东", "华东;华南"),
    ("异业联盟-银行积分商城", "cross_industry", "华北", "华北;华东;华中"),
    ("天猫旗舰店", "ecommerce", "全国", ""),
    ("京东自营旗舰店", "ecommerce", "全国", ""),
    ("抖音小店", "ecommerce", "全国", ""),
    ("拼多多官方店", "ecommerce", "全国", ""),
    ("抖音直播间", "live_commerce", "全国", ""),
    ("快手直播间", "live_commerce", "全国", ""),
    ("视频号直播间", "live_commerce", "全国", ""),
    ("1688工业品旗舰店", "vertical_platform", "全国", ""),
    ("慧聪网店铺", "vertical_platform", "全国", ""),
    ("Made-in-China, 中国制造网", "vertical_platform", "全国", ""),
)
# channels that appear in the master during the period: index -> fraction of the period
LATE_CHANNELS = {23: 0.55, 36: 0.30}
EARLY_ORDER_DAYS = 5  # orders reach a late channel this many days before it appears in the master
PAUSED_CHANNEL = 26  # paused at 60% of the period, terminated at 80%
STATUSES = ("active", "paused", "terminated")


def region_mask(text: str) -> int:
    return sum(1 << REGIONS.index(r) for r in text.split(";") if r)


@dataclass
class ChannelPlan:
    """Per-channel arrays (index = position in CATALOG) and the versions of the master."""

    n: int
    ids: list[str]
    sub: np.ndarray  # sub_type index into list(SUB_TYPES)
    ctype: np.ndarray  # 0 direct, 1 partner, 2 platform
    master_start: np.ndarray  # first day in the master snapshot
    order_start: np.ndarray  # first day an order may name the channel
    pause_day: np.ndarray  # first day paused (days if never)
    term_day: np.ndarray  # first day terminated (days if never)
    auth: np.ndarray  # (n, days) authorized-region bit mask per day
    factor: np.ndarray  # popularity factor
    conv: np.ndarray
    # versions: channel index, from day, updated_at epoch, status index, auth mask
    versions: list[tuple[int, int, int, int, int]]


SUB_NAMES = list(SUB_TYPES)
TYPE_NAMES = ("direct", "partner", "platform")


def sub_param(name: str) -> np.ndarray:
    return np.array([getattr(SUB_TYPES[s], name) for s in SUB_NAMES], dtype=np.float64)


def plan_channels(
    rng: np.random.Generator,
    days: int,
    day_epoch,
    early_order_days: int = EARLY_ORDER_DAYS,
    late_boost: float = 2.0,
) -> ChannelPlan:
    """Decide the channel master over the period.

    day_epoch(day, second_of_day) -> epoch converts local times. The first late channel sells
    `early_order_days` before the master lists it; the late channels are `late_boost` times as popular.
    """
    n = len(CATALOG)
    sub = np.array([SUB_NAMES.index(c[1]) for c in CATALOG])
    ctype = np.array([TYPE_NAMES.index(CHANNEL_TYPE[c[1]]) for c in CATALOG])
    master_start = np.zeros(n, dtype=np.int64)
    order_start = np.zeros(n, dtype=np.int64)
    for i, frac in LATE_CHANNELS.items():
        master_start[i] = min(days - 1, max(1, int(days * frac)))
        order_start[i] = max(0, master_start[i] - (early_order_days if i == min(LATE_CHANNELS) else 0))
    pause_day = np.full(n, days, dtype=np.int64)
    term_day = np.full(n, days, dtype=np.int64)
    pause_day[PAUSED_CHANNEL] = max(1, int(days * 0.6))
    term_day[PAUSED_CHANNEL] = max(int(pause_day[PAUSED_CHANNEL]) + 1, int(days * 0.8))

    auth = np.zeros((n, days), dtype=np.int64)
    versions: list[tuple[int, int, int, int, int]] = []
    partners = [i for i in range(n) if ctype[i] == 1 and i != PAUSED_CHANNEL]
    changing = set(rng.choice(partners, size=min(4, len(partners)), replace=False).tolist())
    for i, (_name, _sub, _region, auth_text) in enumerate(CATALOG):
        mask = region_mask(auth_text)
        start = int(master_start[i])
        if start == 0:
            first_epoch = day_epoch(-int(rng.integers(30, 700)), int(rng.integers(9 * 3600, 18 * 3600)))
        else:
            first_epoch = day_epoch(start, int(rng.integers(8 * 3600, 11 * 3600)))
        events: list[tuple[int, int, int, int]] = [(start, first_epoch, 0, mask)]
        if i in changing and days >= 20:
            lo, hi = max(start + 1, int(days * 0.1)), days - 1
            k = int(rng.integers(2, 4))
            change_days = sorted(set(rng.integers(lo, hi + 1, size=k).tolist())) if hi > lo else []
            for d in change_days:
                members = [b for b in range(7) if mask >> b & 1]
                if len(members) >= 2 and rng.random() < 0.5:
                    mask &= ~(1 << int(rng.choice(members)))
                else:
                    outside = [b for b in range(7) if not mask >> b & 1]
                    mask |= 1 << int(rng.choice(outside))
                events.append((d, day_epoch(d, int(rng.integers(60, 1800))), 0, mask))
        if i == PAUSED_CHANNEL:
            for d, status in ((int(pause_day[i]), 1), (int(term_day[i]), 2)):
                if d < days:
                    events.append((d, day_epoch(d, int(rng.integers(10 * 3600, 17 * 3600))), status, mask))
        events.sort()
        for k, (d, ep, status, m) in enumerate(events):
            nxt = events[k + 1][0] if k + 1 < len(events) else days
            auth[i, d:nxt] = m
            versions.append((i, d, ep, status, m))
        auth[i, :start] = events[0][3]
    factor = rng.lognormal(0.0, 0.35, n)
    for i in LATE_CHANNELS:
        factor[i] *= late_boost
    bench = np.array([0.02, 0.03, 0.015])[ctype]
    conv = np.clip(sub_param("conv")[sub] * rng.uniform(0.6, 1.5, n), bench * 0.5, None)
    return ChannelPlan(
        n=n,
        ids=[f"CH{i + 1:03d}" for i in range(n)],
        sub=sub,
        ctype=ctype,
        master_start=master_start,
        order_start=order_start,
        pause_day=pause_day,
        term_day=term_day,
        auth=auth,
        factor=factor,
        conv=conv,
        versions=versions,
    )
