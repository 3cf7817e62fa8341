"""The semantic layer (models/semantic, docs/metrics.md) through `salesmp metrics` (dbt MetricFlow)
against the serving database of the shared fixture build, read-only.

Every metric at the grains the marts have (channel x month, all x month, tier x month) equals the
mart's column; at a grain no mart has (channel type x quarter) the metrics equal a pandas
computation from the published facts, written from the definitions in docs/mart_rules.md and the
metrics' descriptions. mf takes seconds per call, so the metrics of a grain are asked in one query.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.conftest import ROOT, run_salesmp

CENT = 0.005 + 1e-9  # the marts round money ratios to the cent; the metrics do not
REL = 1e-9


@pytest.fixture(scope="module")
def layer(built_pipeline, tmp_path_factory):
    env = dict(built_pipeline["env"])
    serving = Path(env["SALESMP_SERVING"])
    out = tmp_path_factory.mktemp("metrics")
    con = duckdb.connect(str(serving), read_only=True)
    marts = {t: con.execute(f'select * from "{t}"').df() for t in (
        "mart_channel_health", "mart_channel_funnel", "mart_nps", "mart_complaint_sla_monthly",
        "mart_channel_conflict", "mart_referral_vs_paid", "mart_churn_warning", "mart_customer_tiers",
        "fct_orders", "fct_channel_activity", "fct_leads", "fct_survey_responses", "dim_channels",
    )}
    con.close()

    def query(name: str, metrics: list[str], group_by: list[str]) -> pd.DataFrame:
        path = out / f"{name}.csv"
        result = run_salesmp(["metrics", "query", "--metrics", ",".join(metrics), "--group-by", ",".join(group_by),
                              "--csv", str(path), "--quiet"], env, timeout=600)
        assert result.returncode == 0 and path.exists(), result.stdout[-3000:] + result.stderr[-3000:]
        return pd.read_csv(path, dtype=str)

    return {"env": env, "marts": marts, "query": query}


def _num(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce")


def _month(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series).dt.strftime("%Y-%m")


def assert_close(got, want, what: str, tol: float = 0.0) -> None:
    """Equal as numbers (NULL = NULL); tol is absolute, else a relative 1e-9 for doubles."""
    g = None if got is None or pd.isna(got) else float(got)
    w = None if want is None or pd.isna(want) else float(want)
    assert (g is None) == (w is None), f"{what}: metric {got!r}, expected {want!r}"
    if g is not None:
        assert abs(g - w) <= max(tol, REL * max(1.0, abs(w))), f"{what}: metric {got!r}, expected {want!r}"


def compare(frame: pd.DataFrame, expected: pd.DataFrame, keys: list[str], columns: dict[str, str],
            tolerances: dict[str, float] | None = None, zero_when_missing: tuple[str, ...] = ()) -> int:
    """Each expected row's columns (expected name -> metric name) against the metric rows of its key.
    A key the metrics lack has NULL metrics; counts and sums are 0 there (zero_when_missing)."""
    tolerances = tolerances or {}
    got = frame.set_index(keys)
    checked = 0
    for _, row in expected.iterrows():
        key = tuple(row[k] for k in keys)
        key = key[0] if len(key) == 1 else key
        for want_col, metric in columns.items():
            value = got.at[key, metric] if key in got.index else None
            if (value is None or pd.isna(value)) and metric in zero_when_missing:
                value = 0
            assert_close(_num(pd.Series([value])).iloc[0], row[want_col], f"{metric} at {key}",
                         tolerances.get(metric, 0.0))
            checked += 1
    return checked


def test_validate_configs(built_pipeline):
    result = run_salesmp(["metrics", "validate-configs"], built_pipeline["env"], timeout=600)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    assert "ERRORS: 0" in out and "Successfully validated metrics against data warehouse" in out, out[-4000:]


def test_channel_by_month_equals_the_channel_marts(layer):
    m = layer["marts"]
    frame = layer["query"]("channel_month", [
        "revenue", "orders", "buyers", "new_customers", "spend", "visits", "inquiries", "carts", "cac", "roi",
        "clv", "cac_clv_ratio", "visit_to_order_rate", "inquiry_rate", "cart_rate", "repeat_buyer_rate",
        "leads_created", "lead_win_rate", "sales_cycle_days_median", "channel_nps", "channel_nps_responses",
        "channel_csat", "complaint_response_sla_share", "complaint_resolution_sla_share", "conflict_share",
    ], ["channel", "metric_time__month"])
    frame["month"] = _month(frame["metric_time__month"])
    frame = frame.rename(columns={"channel": "channel_id"})
    # complaint tickets without a channel form rows of their own (channel NULL), with no other figure
    no_channel = frame[frame["channel_id"].isna()]
    assert (_num(no_channel["revenue"]) == 0).all() and (_num(no_channel["spend"]) == 0).all()
    frame = frame[frame["channel_id"].notna()]

    health = m["mart_channel_health"].assign(month=lambda d: _month(d["month"]))
    health["cac_clv_ratio"] = [
        None if pd.isna(c) or pd.isna(v) or v == 0 else float(c) / float(v)
        for c, v in zip(health["cac"], health["clv"], strict=True)
    ]
    funnel = m["mart_channel_funnel"].assign(month=lambda d: _month(d["month"]))
    keys = ["channel_id", "month"]
    additive = (
        "revenue", "orders", "buyers", "new_customers", "spend", "visits", "inquiries", "carts", "leads_created",
    )
    n = compare(frame, health, keys, {
        "revenue": "revenue", "orders": "orders", "new_customers": "new_customers", "spend": "spend",
        "visits": "visits", "cac": "cac", "roi": "roi", "clv": "clv", "conversion": "visit_to_order_rate",
    }, tolerances={"cac": CENT, "clv": CENT}, zero_when_missing=additive)
    # cac_clv_ratio: the mart's cac and clv are rounded to the cent, so the ratio agrees to their precision
    rel = health.dropna(subset=["cac_clv_ratio"])
    for _, row in rel.iterrows():
        got = frame.set_index(keys).at[(row.channel_id, row.month), "cac_clv_ratio"]
        assert abs(float(got) - row.cac_clv_ratio) <= 1e-4 * max(1.0, row.cac_clv_ratio) + 0.01 / float(row.clv) * 2
    n += compare(frame, funnel, keys, {
        "buyers": "buyers", "inquiries": "inquiries", "carts": "carts", "inquiry_rate": "inquiry_rate",
        "cart_rate": "cart_rate", "visit_to_order_rate": "visit_to_order_rate", "repeat_rate": "repeat_buyer_rate",
        "leads_created": "leads_created", "win_rate": "lead_win_rate", "cycle_days_median": "sales_cycle_days_median",
    }, zero_when_missing=additive)
    nps = m["mart_nps"].query("grain == 'channel'").assign(month=lambda d: _month(d["month"]))
    n += compare(frame, nps, keys, {"responses": "channel_nps_responses", "nps": "channel_nps", "csat": "channel_csat"})
    sla = m["mart_complaint_sla_monthly"].query("grain == 'channel'").assign(month=lambda d: _month(d["month"]))
    n += compare(frame, sla, keys, {"responded_within_2h_share": "complaint_response_sla_share",
                                    "resolved_within_24h_share": "complaint_resolution_sla_share"})
    conflict = m["mart_channel_conflict"].assign(month=lambda d: _month(d["month"]))
    n += compare(frame, conflict, keys, {"conflict_share": "conflict_share"})
    # nothing the metrics show is missing from the marts: every (channel, month) with revenue is a mart row
    assert set(map(tuple, frame.loc[_num(frame["revenue"]).fillna(0) != 0, keys].values)) <= set(
        map(tuple, health[keys].values))
    assert n > 500 and len(nps) and len(sla) and len(conflict)


def test_all_and_tier_by_month_equal_the_marts(layer):
    m = layer["marts"]
    all_months = layer["query"]("all_month", [
        "nps", "nps_responses", "csat", "complaint_response_sla_share", "complaint_resolution_sla_share",
        "referral_win_rate", "paid_win_rate", "referral_to_paid_win_rate_ratio", "churn_warned_customers",
        "revenue_at_risk",
    ], ["metric_time__month"])
    all_months["month"] = _month(all_months["metric_time__month"])
    nps = m["mart_nps"].query("grain == 'all'").assign(month=lambda d: _month(d["month"]))
    n = compare(all_months, nps, ["month"], {"responses": "nps_responses", "nps": "nps", "csat": "csat"})
    sla = m["mart_complaint_sla_monthly"].query("grain == 'all'").assign(month=lambda d: _month(d["month"]))
    n += compare(all_months, sla, ["month"], {"responded_within_2h_share": "complaint_response_sla_share",
                                              "resolved_within_24h_share": "complaint_resolution_sla_share"})
    referral = m["mart_referral_vs_paid"].assign(month=lambda d: _month(d["month"]))
    n += compare(all_months, referral, ["month"], {"referral_win_rate": "referral_win_rate",
                                                   "paid_win_rate": "paid_win_rate",
                                                   "referral_to_paid_ratio": "referral_to_paid_win_rate_ratio"})
    churn = m["mart_churn_warning"].assign(month=lambda d: _month(d["month"]))
    warned = churn[churn["churn_warning"]]
    churn_all = churn.groupby("month").apply(lambda g: pd.Series({
        "warned": int(g["churn_warning"].sum()),
        "at_risk": sum((Decimal(str(v)) for v in g.loc[g["churn_warning"], "spend_m3"]), Decimal(0)),
    }), include_groups=False).reset_index()
    n += compare(all_months, churn_all, ["month"], {"warned": "churn_warned_customers", "at_risk": "revenue_at_risk"},
                 zero_when_missing=("churn_warned_customers", "revenue_at_risk"))
    # money stays exact: the DECIMAL sum reads back to the cent (mf prints it as a float)
    if len(warned):
        got = all_months.set_index("month").at[churn_all["month"].iloc[0], "revenue_at_risk"]
        assert Decimal(got) == churn_all["at_risk"].iloc[0]

    tiers = layer["query"]("tier_month", ["nps", "nps_responses", "csat", "churn_warned_customers"],
                           ["customer__customer_tier", "metric_time__month"])
    tiers["month"] = _month(tiers["metric_time__month"])
    tiers = tiers.rename(columns={"customer__customer_tier": "customer_tier"})
    tier_nps = m["mart_nps"].query("grain == 'tier'").assign(month=lambda d: _month(d["month"]))
    n += compare(tiers, tier_nps, ["customer_tier", "month"],
                 {"responses": "nps_responses", "nps": "nps", "csat": "csat"})
    # the layer's tier is mart_customer_tiers' ('potential' outside the customer master), as mart_nps reads it
    layer_tiers = m["mart_customer_tiers"][["customer_id", "customer_tier"]]
    tier_churn = (warned.drop(columns="customer_tier").merge(layer_tiers, on="customer_id", how="left")
                  .fillna({"customer_tier": "potential"}).groupby(["customer_tier", "month"]).size()
                  .rename("warned").reset_index())
    n += compare(tiers, tier_churn, ["customer_tier", "month"], {"warned": "churn_warned_customers"})
    assert n > 30 and len(tier_nps) and len(referral)


def _quarter(dates: pd.Series) -> pd.Series:
    return pd.to_datetime(dates).dt.to_period("Q").dt.start_time.dt.strftime("%Y-%m")


def test_channel_type_by_quarter_equals_pandas_from_the_facts(layer):
    """A grain no mart has: from the published facts, by the definitions (paid orders dated on or
    before D; a new customer on the channel and date of their first purchase; spend and visits dated on
    or before D; leads by creation date; each customer's latest answer per channel and month)."""
    m = layer["marts"]
    as_of = pd.Timestamp(m["mart_customer_tiers"]["as_of_date"].max())
    channels = m["dim_channels"].query("is_current")[["channel_id", "channel_type"]]

    orders = m["fct_orders"]
    paid = orders[orders["is_paid"] & (pd.to_datetime(orders["order_date"]) <= as_of)].merge(channels, on="channel_id")
    paid = paid.assign(quarter=_quarter(paid["order_date"]), amount=paid["amount"].map(lambda v: Decimal(str(v))))
    first = paid.sort_values(["order_ts", "order_id"]).drop_duplicates("customer_id")
    activity = m["fct_channel_activity"]
    activity = activity[pd.to_datetime(activity["activity_date"]) <= as_of].merge(channels, on="channel_id")
    activity = activity.assign(quarter=_quarter(activity["activity_date"]),
                               spend=activity["spend"].map(lambda v: Decimal(0) if pd.isna(v) else Decimal(str(v))))

    stages = pd.read_csv(ROOT / "seeds" / "lead_stage_order.csv")
    leads = m["fct_leads"].merge(stages, on="stage")
    leads = leads[pd.to_datetime(leads["stage_date"]) <= as_of].sort_values(["lead_id", "stage_ts", "stage_order"])
    won_order = int(stages.loc[stages["stage"] == "won", "stage_order"].iloc[0])
    per_lead = []
    for _, rows in leads.groupby("lead_id"):
        created = rows.loc[rows["stage"] == "created", "stage_date"]
        created_date = pd.Timestamp(created.max() if len(created) else rows["stage_date"].iloc[0])
        won = rows.loc[rows["stage"] == "won", "stage_date"]
        funnel = rows.loc[rows["is_funnel_stage"], "stage_order"]
        per_lead.append({"channel_id": rows["channel_id"].iloc[0],
                         "quarter": _quarter(pd.Series([created_date])).iloc[0],
                         "won": bool(len(funnel)) and funnel.max() >= won_order,
                         "cycle": (pd.Timestamp(won.max()) - created_date).days if len(won) else None})
    per_lead = pd.DataFrame(per_lead).merge(channels, on="channel_id")

    answers = m["fct_survey_responses"]
    answers = answers[(pd.to_datetime(answers["submitted_date"]) <= as_of) & answers["channel_id"].notna()]
    answers = (answers.sort_values(["submitted_at", "response_id"], ascending=False)
               .drop_duplicates(["customer_id", "submitted_month", "channel_id"]).merge(channels, on="channel_id"))
    answers = answers.assign(quarter=_quarter(answers["submitted_date"]))

    expected = {}
    for (ctype, quarter), g in paid.groupby(["channel_type", "quarter"]):
        expected.setdefault((ctype, quarter), {}).update(
            revenue=sum(g["amount"], Decimal(0)), orders=len(g), buyers=g["customer_id"].nunique())
    for (ctype, quarter), g in first.groupby(["channel_type", "quarter"]):
        expected.setdefault((ctype, quarter), {})["new_customers"] = len(g)
    for (ctype, quarter), g in activity.groupby(["channel_type", "quarter"]):
        expected.setdefault((ctype, quarter), {}).update(
            spend=sum(g["spend"], Decimal(0)), visits=int(g["visits"].fillna(0).sum()),
            inquiries=int(g["inquiries"].fillna(0).sum()))
    for (ctype, quarter), g in per_lead.groupby(["channel_type", "quarter"]):
        cycles = g["cycle"].dropna().astype(float)
        expected.setdefault((ctype, quarter), {}).update(
            leads=len(g), lead_win_rate=g["won"].sum() / len(g), cycle=cycles.median() if len(cycles) else None)
    for (ctype, quarter), g in answers.groupby(["channel_type", "quarter"]):
        expected.setdefault((ctype, quarter), {})["channel_nps"] = (
            100 * ((g["nps_score"] >= 9).sum() - (g["nps_score"] <= 6).sum()) / len(g))

    frame = layer["query"]("type_quarter", [
        "revenue", "orders", "buyers", "new_customers", "spend", "cac", "roi", "average_order_value",
        "visit_to_order_rate", "inquiry_rate", "lead_win_rate", "sales_cycle_days_median", "channel_nps",
    ], ["channel__channel_type", "metric_time__quarter"])
    frame["quarter"] = _month(frame["metric_time__quarter"])
    got = frame.set_index(["channel__channel_type", "quarter"])
    assert set(got.index) >= set(expected) and len(expected) >= 6
    for key, e in expected.items():
        row = got.loc[key]
        revenue, spend = e.get("revenue", Decimal(0)), e.get("spend", Decimal(0))
        orders, visits, new = e.get("orders", 0), e.get("visits", 0), e.get("new_customers", 0)
        if "revenue" in e:  # DECIMAL sums; mf prints them as floats, which still read back to the cent
            assert Decimal(row["revenue"]) == revenue, key
            assert int(row["orders"]) == orders and int(row["buyers"]) == e["buyers"], key
            assert_close(_num(pd.Series([row["average_order_value"]]))[0], float(revenue) / orders, f"aov {key}")
        if "spend" in e:
            assert Decimal(row["spend"]) == spend, key
        assert_close(_num(pd.Series([row["new_customers"]]))[0] if pd.notna(row["new_customers"]) else 0, new,
                     f"new {key}")
        for metric, num, den in (("cac", spend, new), ("roi", revenue, spend), ("visit_to_order_rate", orders, visits),
                                 ("inquiry_rate", e.get("inquiries", 0), visits)):
            want = float(num) / float(den) if den else None
            assert_close(_num(pd.Series([row[metric]]))[0], want, f"{metric} {key}")
        if "leads" in e:
            assert_close(_num(pd.Series([row["lead_win_rate"]]))[0], e["lead_win_rate"], f"win {key}")
            assert_close(_num(pd.Series([row["sales_cycle_days_median"]]))[0], e["cycle"], f"cycle {key}")
        if "channel_nps" in e:
            assert_close(_num(pd.Series([row["channel_nps"]]))[0], e["channel_nps"], f"nps {key}")


def test_a_publish_while_a_query_runs(built_pipeline, tmp_path):
    """A query opens the serving file read-only and holds no lock a publish needs: a publish that
    renames a new build over the file while the query's process runs (parsing, connecting, querying)
    succeeds, the query succeeds, and the next query reads the new build."""
    import shutil
    import subprocess
    import threading

    from dagster_project.publish.serving import publish_marts
    from tests.conftest import SALESMP

    env = dict(built_pipeline["env"])
    serving = tmp_path / "serving.duckdb"  # a copy: the shared build's serving file stays as it is
    shutil.copyfile(env["SALESMP_SERVING"], serving)
    env["SALESMP_SERVING"] = str(serving)
    query = subprocess.Popen(
        [SALESMP, "metrics", "query", "--metrics", "revenue,cac,nps", "--group-by", "metric_time__month",
         "--csv", str(tmp_path / "during.csv"), "--quiet"],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    published = {}

    def publish() -> None:
        published["report"] = publish_marts(
            warehouse=Path(built_pipeline["env"]["SALESMP_WAREHOUSE"]), serving=serving, build_id="during-a-query",
            partition_first=None, partition_last=None, check_results={})
        published["query_still_running"] = query.poll() is None

    publisher = threading.Thread(target=publish)
    publisher.start()
    out, _ = query.communicate(timeout=600)
    publisher.join(timeout=600)
    assert query.returncode == 0, out[-3000:]
    assert "report" in published and published["query_still_running"]
    during = pd.read_csv(tmp_path / "during.csv", dtype=str)
    after = run_salesmp(["metrics", "query", "--metrics", "revenue,cac,nps", "--group-by", "metric_time__month",
                         "--csv", str(tmp_path / "after.csv"), "--quiet"], env, timeout=600)
    assert after.returncode == 0, after.stdout[-3000:] + after.stderr[-3000:]
    pd.testing.assert_frame_equal(during.sort_values("metric_time__month").reset_index(drop=True),
                                  pd.read_csv(tmp_path / "after.csv", dtype=str)
                                  .sort_values("metric_time__month").reset_index(drop=True))
    con = duckdb.connect(str(serving), read_only=True)
    assert con.execute("select count(*) from publish_log where build_id = 'during-a-query'").fetchone()[0] == 1
    con.close()
