"""The public data converters (benchmarks/public_data.py) on a few hand-written lines in each source's own
format: what they write loads through the real loader as the feed contract says."""

from __future__ import annotations

import zipfile
from datetime import UTC, date, datetime

import duckdb

from benchmarks import public_data
from dagster_project.ingest.loader import ensure_raw_schema, ingest_days

MQLS = """mql_id,first_contact_date,landing_page_id,origin
m1,2018-02-01,lp1,social
m2,2018-02-01,lp2,
m3,2018-02-03,lp1,paid_search
"""
DEALS = """mql_id,seller_id,sdr_id,sr_id,won_date,business_segment,lead_type,lead_behaviour_profile,has_company,\
has_gtin,average_stock,business_type,declared_product_catalog_size,declared_monthly_revenue
m1,s1,a,b,2018-02-26 19:58:54,pet,online_medium,cat,,,,reseller,,0.0
"""
CDNOW = """ customer_id  date number_of_cds  dollar_value
 00001 19970101  1   11.77
 00002 19970112  1   12.00
 00002 19970112  5   77.00
 00002 19970302  1    0.00
"""


def _load(landing, feeds):
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Asia/Shanghai'")
    ensure_raw_schema(con)
    days = public_data_days(landing)
    for feed in feeds:
        ingest_days(con, landing, feed, days, datetime(2026, 1, 1, tzinfo=UTC))
    return con


def public_data_days(landing):
    return sorted({date.fromisoformat(d.name) for f in landing.iterdir() if f.is_dir() for d in f.iterdir()})


def test_olist_funnel_becomes_the_leads_feed(tmp_path):
    src = tmp_path / "copy" / "data" / "marketing-funnel"
    src.mkdir(parents=True)
    (src / "olist_marketing_qualified_leads_dataset.csv").write_text(MQLS, encoding="utf-8")
    (src / "olist_closed_deals_dataset.csv").write_text(DEALS, encoding="utf-8")
    spec = public_data.BY_NAME["olist_funnel"]
    public_data.import_raw(spec, tmp_path / "copy", base=tmp_path / "public")
    landing = public_data.landing_dir(spec, tmp_path / "public")
    status = public_data.ensure_landing(spec, landing)
    assert status["available"], status
    assert sorted(p.name for p in (landing / "leads").iterdir()) == ["2018-02-01", "2018-02-03", "2018-02-26"]
    con = _load(landing, ["leads"])
    rows = con.execute("SELECT lead_id, channel_id, stage, customer_id, industry, _partition_date FROM raw.leads "
                       "ORDER BY _partition_date, lead_id").fetchall()
    assert rows == [
        ("m1", "social", "created", None, None, date(2018, 2, 1)),
        ("m2", "unknown", "created", None, None, date(2018, 2, 1)),
        ("m3", "paid_search", "created", None, None, date(2018, 2, 3)),
        ("m1", "social", "won", "s1", "pet", date(2018, 2, 26)),
    ]
    # 19:58:54 in São Paulo (UTC-3: its daylight saving time ended on 18 February 2018) is 22:58:54 UTC
    won = con.execute("SELECT epoch(stage_ts) FROM raw.leads WHERE stage = 'won'").fetchone()[0]
    assert won == datetime(2018, 2, 26, 22, 58, 54, tzinfo=UTC).timestamp()
    assert con.execute("SELECT count(*) FROM raw.quarantine").fetchone()[0] == 0


def test_cdnow_becomes_customers_and_orders_from_a_wheel(tmp_path):
    wheel = tmp_path / "pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("lifetimes/datasets/CDNOW_master.txt", CDNOW)
    spec = public_data.BY_NAME["cdnow"]
    public_data.import_raw(spec, wheel, base=tmp_path / "public")
    landing = public_data.landing_dir(spec, tmp_path / "public")
    assert public_data.ensure_landing(spec, landing)["available"]
    con = _load(landing, ["orders", "customers"])
    orders = con.execute("SELECT order_id, customer_id, amount FROM raw.orders ORDER BY order_id").fetchall()
    assert [(o, c, str(a)) for o, c, a in orders] == [
        ("00001-19970101-1", "00001", "11.77"),
        ("00002-19970112-1", "00002", "12.00"),
        ("00002-19970112-2", "00002", "77.00"),
    ]
    # the 0.00 line is not dropped: the loader quarantines it with its reason
    assert con.execute("SELECT reason_code FROM raw.quarantine").fetchall() == [("out_of_range",)]
    customers = con.execute("SELECT customer_id, _partition_date FROM raw.customers ORDER BY 1").fetchall()
    assert customers == [("00001", date(1997, 1, 1)), ("00002", date(1997, 1, 12))]
