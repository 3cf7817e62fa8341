"""Column-level lineage of the marts, traced from the compiled SQL of a real build.

The expectations come from the definitions (models/**/_*.yml, docs/mart_rules.md): NPS is
computed from the survey's likelihood-to-recommend score, CSAT from the satisfaction score, monetary
from order amounts, recency from order dates against D (the latest loaded partition), the segment
from seed rfm_segment_map, the tier from the strategic revenue threshold of seed mart_thresholds.
"""

import json
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def lineage(built_pipeline) -> dict:
    path = Path(built_pipeline["env"]["SALESMP_SITE"]) / "docs" / "column_lineage.json"
    return json.loads(path.read_text())["models"]


def test_every_mart_column_is_traced(lineage, built_pipeline):
    manifest = json.loads((Path(built_pipeline["env"]["SALESMP_SITE"]) / "docs" / "manifest.json").read_text())
    marts = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"
             and n["name"].startswith("mart_")}
    assert set(marts) <= set(lineage)
    for name, node in marts.items():
        assert set(lineage[name]["columns"]) == {c.lower() for c in node["columns"]}, name


def test_mart_nps_scores_trace_to_the_survey_answers(lineage):
    nps = lineage["mart_nps"]["columns"]
    for column in ("nps", "promoters", "passives", "detractors", "nps_moe_95", "nps_change"):
        assert nps[column]["staging"] == ["stg_surveys.nps_score"], column
        assert nps[column]["upstream"] == ["fct_survey_responses.nps_score"], column
    assert nps["csat"]["staging"] == ["stg_surveys.csat_score"]
    assert nps["month"]["staging"] == ["stg_surveys.submitted_at"]
    assert nps["channel_id"]["staging"] == ["stg_surveys.channel_id"]
    # The facts read the raw feed themselves; the raw column is named too.
    assert nps["nps"]["sources"] == ["raw.surveys.nps_score"]
    # low_sample compares the count of answers with the nps_low_sample threshold.
    assert nps["low_sample"]["seeds"] == ["mart_thresholds.threshold_value"]
    # The tier rows' key comes from mart_customer_tiers, i.e. from order amounts and dates.
    assert "mart_customer_tiers.customer_tier" in nps["customer_tier"]["upstream"]
    assert {"stg_orders.amount", "stg_orders.order_ts"} <= set(nps["customer_tier"]["staging"])
    assert "stg_surveys.csat_score" not in nps["nps"]["staging"]


def test_mart_customer_rfm_traces_to_orders_and_d(lineage):
    rfm = lineage["mart_customer_rfm"]["columns"]
    assert rfm["customer_id"]["staging"] == ["stg_orders.customer_id"]
    for column in ("monetary", "avg_order_value"):
        assert rfm[column]["staging"] == ["stg_orders.amount"], column
    # The history figures come from the per-customer state kept incrementally (docs/mart_rules.md).
    assert rfm["monetary"]["upstream"] == ["int_customer_purchase_stats.monetary"]
    # recency = D - last purchase date: the order instant and D, the latest partition of the ingest log.
    assert rfm["recency_days"]["staging"] == ["stg_ingest_log.partition_date", "stg_orders.order_ts"]
    assert rfm["last_purchase_date"]["staging"] == ["stg_orders.order_ts"]
    assert rfm["as_of_date"]["staging"] == ["stg_ingest_log.partition_date"]
    assert rfm["rfm_segment"]["seeds"] == ["rfm_segment_map.rfm_segment"]
    # strategic when revenue of the last 365 days reaches strategic_revenue_365d.
    assert rfm["customer_tier"]["seeds"] == ["mart_thresholds.threshold_value"]
    assert {"stg_orders.amount", "stg_orders.order_ts"} <= set(rfm["customer_tier"]["staging"])
    assert "stg_orders.amount" not in rfm["recency_days"]["staging"]


def test_dagster_shows_the_column_lineage_of_the_marts(built_pipeline):
    import dagster as dg

    with dg.DagsterInstance.from_config(built_pipeline["env"]["DAGSTER_HOME"]) as instance:
        records = instance.fetch_observations(dg.AssetKey(["mart_nps"]), limit=1).records
        assert records, "no observation of mart_nps"
        metadata = records[0].asset_observation.metadata
    column_lineage = metadata["dagster/column_lineage"].value
    deps = {(d.asset_key.to_user_string(), d.column_name) for d in column_lineage.deps_by_column["nps"]}
    assert deps == {("fct_survey_responses", "nps_score")}
