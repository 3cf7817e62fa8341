"""Vectorised text building (ids, money, numbers, names) and the word banks of the generator."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NULL = pa.scalar(None, pa.string())
_TWO = pa.array([f"{i:02d}" for i in range(100)])
_ONE = pa.array([str(i) for i in range(10)])

REGIONS = ("华东", "华南", "华北", "华中", "西南", "西北", "东北")
REGION_W = np.array([0.34, 0.22, 0.15, 0.11, 0.09, 0.04, 0.05])
CITIES = {
    "华东": ("上海", "杭州", "苏州", "南京", "宁波", "合肥", "济南", "青岛", "无锡", "温州"),
    "华南": ("广州", "深圳", "东莞", "佛山", "厦门", "南宁", "海口", "珠海"),
    "华北": ("北京", "天津", "石家庄", "太原", "呼和浩特", "唐山"),
    "华中": ("武汉", "长沙", "郑州", "南昌", "宜昌", "洛阳"),
    "西南": ("成都", "重庆", "昆明", "贵阳", "绵阳"),
    "西北": ("西安", "兰州", "银川", "乌鲁木齐", "西宁"),
    "东北": ("沈阳", "大连", "长春", "哈尔滨"),
}
INDUSTRIES = (
    "制造业",
    "零售",
    "餐饮",
    "教育",
    "医疗",
    "物流",
    "建筑装饰",
    "互联网",
    "酒店",
    "房地产",
    "金融",
    "政府及事业单位",
)
INDUSTRY_W = np.array([0.22, 0.14, 0.1, 0.07, 0.06, 0.08, 0.1, 0.07, 0.05, 0.04, 0.03, 0.04])
SURNAMES = (
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("赵", "zhao"),
    ("吴", "wu"),
    ("周", "zhou"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("马", "ma"),
    ("朱", "zhu"),
    ("胡", "hu"),
    ("郭", "guo"),
    ("何", "he"),
    ("林", "lin"),
    ("罗", "luo"),
    ("高", "gao"),
    ("郑", "zheng"),
    ("梁", "liang"),
    ("谢", "xie"),
    ("宋", "song"),
    ("唐", "tang"),
    ("韩", "han"),
    ("冯", "feng"),
    ("邓", "deng"),
    ("曹", "cao"),
    ("欧阳", "ouyang"),
)
GIVEN = tuple("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红玲芬燕彬鹏辉宇浩晨欣怡涵轩雨琪俊婷雪峰凯")
COMPANY_CORE = (
    ("恒达", "hengda"),
    ("华信", "huaxin"),
    ("鑫源", "xinyuan"),
    ("永盛", "yongsheng"),
    ("宏图", "hongtu"),
    ("金鼎", "jinding"),
    ("瑞丰", "ruifeng"),
    ("天成", "tiancheng"),
    ("博远", "boyuan"),
    ("汇通", "huitong"),
    ("中联", "zhonglian"),
    ("佳禾", "jiahe"),
    ("德润", "derun"),
    ("国泰", "guotai"),
    ("长青", "changqing"),
    ("锦程", "jincheng"),
    ("万象", "wanxiang"),
    ("正泰", "zhengtai"),
    ("海川", "haichuan"),
    ("新纪元", "xinjiyuan"),
)
COMPANY_TRADE = (
    "科技",
    "贸易",
    "建材",
    "实业",
    "电子",
    "物流",
    "餐饮管理",
    "医疗器械",
    "教育科技",
    "装饰工程",
)
COMPANY_SUFFIX = ("有限公司", "有限公司", "有限公司", "股份有限公司", "集团有限公司")
FOREIGN_COMPANIES = (
    "Pacific Trading Co., Ltd.",
    "Smith, Lee & Partners",
    'Nova "Blue" Industries',
    "Baker & Sons, Inc.",
    "Kowloon Supply (HK) Ltd.",
)
MOBILE_PREFIXES = tuple(
    str(p) for p in (*range(130, 140), *range(150, 160), 166, 176, 177, 178, *range(180, 190), 199)
)
MAIL_DOMAINS = ("qq.com", "163.com", "126.com", "gmail.com", "sina.com", "outlook.com")

COMMENTS = {
    "promoter": (
        "服务很好，下次还会再来",
        "发货很快, 包装也很仔细",
        '客服小王很专业，给了"五星"服务',
        "质量超出预期",
        "Great service, fast delivery",
        "老客户了，一直很放心",
        "性价比高，推荐给朋友了",
        "安装师傅很准时, 态度也好",
        "展厅体验很棒，讲解细致",
    ),
    "passive": (
        "还可以，价格有点贵",
        "物流稍慢, 其他都好",
        "一般般吧",
        "产品不错但说明书看不懂",
        'Okay, but the "manual" is confusing',
        "希望多一些优惠活动",
        "质量还行，包装有点简陋",
    ),
    "detractor": (
        "退款流程太慢了，等了两周",
        '说好的"次日达"结果等了五天',
        "客服电话一直打不通",
        "质量有问题, 用了三天就坏了",
        "发票开错了，还要重新寄",
        "Terrible support, never again",
        "投诉了也没人理",
        "和描述不符，申请退货中",
        "售后推来推去, 很失望",
    ),
}


def lit(x: str) -> pa.Scalar:
    return pa.scalar(x, pa.string())


def join(*parts: pa.Array | str) -> pa.Array:
    """Concatenate string arrays and literals element-wise (null when any part is null)."""
    args = [lit(p) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*args, lit(""))


def s_int(x: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(x, dtype=np.int64)), pa.string())


def s_money(cents: np.ndarray) -> pa.Array:
    """Exact decimal yuan text of non-negative integer cents: 123450 -> `1234.50`."""
    cents = np.asarray(cents, dtype=np.int64)
    return join(s_int(cents // 100), ".", _TWO.take(cents % 100))


def s_tenths(tenths: np.ndarray) -> pa.Array:
    """Text of a non-negative number given in tenths: 873 -> `87.3`."""
    tenths = np.asarray(tenths, dtype=np.int64)
    return join(s_int(tenths // 10), ".", _ONE.take(tenths % 10))


def s_id(prefix: str, n: np.ndarray, width: int) -> pa.Array:
    return join(prefix, pc.utf8_lpad(s_int(n), width=width, padding="0"))


def id_width(count: int, minimum: int) -> int:
    return max(minimum, len(str(max(count, 1))))


def pick(choices: tuple[str, ...] | list[str], idx: np.ndarray) -> pa.Array:
    return pa.array(list(choices), pa.string()).take(np.asarray(idx, dtype=np.int64))


def null_where(arr: pa.Array, mask: np.ndarray) -> pa.Array:
    if not mask.any():
        return arr
    return pc.if_else(pa.array(mask), NULL, arr)


def choose(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    """n categorical draws with the given (unnormalised) weights."""
    cw = np.cumsum(weights, dtype=np.float64)
    return np.minimum(np.searchsorted(cw, rng.random(n) * cw[-1], side="right"), len(cw) - 1)


def region_mask_text() -> list[str | None]:
    """`;`-joined region names for every 7-bit region mask (None for the empty mask)."""
    out: list[str | None] = []
    for m in range(128):
        names = [r for i, r in enumerate(REGIONS) if m >> i & 1]
        out.append(";".join(names) if names else None)
    return out


def mask_members() -> tuple[np.ndarray, np.ndarray]:
    """Per 7-bit mask: number of regions in it and the region indexes (padded)."""
    pop = np.zeros(128, dtype=np.int64)
    members = np.zeros((128, 7), dtype=np.int64)
    for m in range(128):
        idx = [i for i in range(7) if m >> i & 1]
        pop[m] = len(idx)
        members[m, : len(idx)] = idx
    return pop, members


def person_names(rng: np.random.Generator, n: int) -> tuple[pa.Array, np.ndarray]:
    """Chinese personal names and the surname index (for e-mail addresses)."""
    sw = 1.0 / (np.arange(len(SURNAMES)) + 3.0)
    s = choose(rng, sw, n)
    g1 = rng.integers(0, len(GIVEN), n)
    g2 = rng.integers(0, len(GIVEN), n)
    two = rng.random(n) < 0.7
    given2 = null_where(pick(GIVEN, g2), ~two)
    names = pc.binary_join_element_wise(
        pick([x[0] for x in SURNAMES], s),
        pick(GIVEN, g1),
        given2,
        lit(""),
        null_handling="replace",
        null_replacement="",
    )
    return names, s


def company_names(rng: np.random.Generator, region: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """Company names `杭州恒达建材有限公司` in the customer's region and the name core index."""
    n = len(region)
    width = max(len(v) for v in CITIES.values())
    table = np.array([[*CITIES[r], *[""] * (width - len(CITIES[r]))] for r in REGIONS], dtype=object)
    counts = np.array([len(CITIES[r]) for r in REGIONS])
    city = table[region, (rng.random(n) * counts[region]).astype(np.int64)]
    core = rng.integers(0, len(COMPANY_CORE), n)
    names = join(
        pa.array(city, pa.string()),
        pick([c[0] for c in COMPANY_CORE], core),
        pick(COMPANY_TRADE, rng.integers(0, len(COMPANY_TRADE), n)),
        pick(COMPANY_SUFFIX, rng.integers(0, len(COMPANY_SUFFIX), n)),
    )
    foreign = rng.random(n) < 0.015
    if foreign.any():
        names = pc.if_else(
            pa.array(foreign), pick(FOREIGN_COMPANIES, rng.integers(0, len(FOREIGN_COMPANIES), n)), names
        )
    return names, core


def phones(rng: np.random.Generator, n: int, landline_share: float) -> pa.Array:
    mobile = join(
        pick(MOBILE_PREFIXES, rng.integers(0, len(MOBILE_PREFIXES), n)),
        pc.utf8_lpad(s_int(rng.integers(0, 100_000_000, n)), width=8, padding="0"),
    )
    land = rng.random(n) < landline_share
    if not land.any():
        return mobile
    hotline = join(
        "400-",
        pc.utf8_lpad(s_int(rng.integers(0, 1000, n)), width=3, padding="0"),
        "-",
        pc.utf8_lpad(s_int(rng.integers(0, 10_000, n)), width=4, padding="0"),
    )
    return pc.if_else(pa.array(land), hotline, mobile)
