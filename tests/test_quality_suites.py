"""The expectation suites as files: complete, loadable by Great Expectations, in step with the contracts."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
import yaml

from dagster_project.ingest.feeds import FEEDS, LINEAGE_COLUMNS
from dagster_project.quality.suites import EXPECTATIONS_DIR, SEVERITIES, load_suites

ROOT = Path(__file__).resolve().parent.parent
SUITES = {s.name: s for s in load_suites()}


def _mart_models() -> dict[str, dict]:
    """Every model documented under models/core and models/marts, the published ones (name -> its YAML entry)."""
    models = {}
    for doc in [*(ROOT / "models" / "core").rglob("_*.yml"), *(ROOT / "models" / "marts").rglob("_*.yml")]:
        for model in yaml.safe_load(doc.read_text(encoding="utf-8")).get("models") or []:
            models[model["name"]] = model
    return models


def _exps(suite, type_, batch=None):
    return [
        e for e in suite.expectations if e["type"] == type_ and (batch is None or e["meta"]["batch"] == batch)
    ]


def _declared_types(suite) -> dict[str, str]:
    return {
        e["kwargs"]["column"]: e["kwargs"]["value_set"][0]
        for e in _exps(suite, "expect_column_values_to_be_in_set", "schema")
    }


def test_one_suite_per_raw_feed_and_per_mart():
    marts = {p.stem for folder in ("core", "marts") for p in (ROOT / "models" / folder).rglob("*.sql")}
    expected = {f"raw_{feed}" for feed in FEEDS} | marts
    assert expected <= set(SUITES), f"no suite for {sorted(expected - set(SUITES))}"
    assert {p.stem for p in EXPECTATIONS_DIR.glob("*.yml")} == set(SUITES)


@pytest.mark.parametrize("name", sorted(SUITES))
def test_suite_loads_into_great_expectations(name):
    import great_expectations as gx

    suite = SUITES[name]
    gx_suite = gx.ExpectationSuite(**suite.to_gx_dict())
    assert len(gx_suite.expectations) == len(suite.expectations)
    assert {e.severity.value for e in gx_suite.expectations} <= set(SEVERITIES)
    # every suite has a blocking check (so its step runs before anything downstream of its asset)
    assert any(c.blocking for c in suite.checks.values())


@pytest.mark.parametrize("feed", sorted(FEEDS))
def test_raw_suite_follows_the_feed_contract(feed):
    import duckdb

    from dagster_project.ingest.loader import ensure_raw_schema

    suite = SUITES[f"raw_{feed}"]
    spec = FEEDS[feed]
    assert suite.asset_key == dg.AssetKey(["raw", feed])
    con = duckdb.connect()
    ensure_raw_schema(con)
    ddl_types = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'raw' "
            "AND table_name = ?",
            [feed],
        ).fetchall()
    )
    [columns] = _exps(suite, "expect_table_columns_to_match_set", "schema")
    assert columns["kwargs"]["column_set"] == [*spec.column_names, *(n for n, _ in LINEAGE_COLUMNS)]
    assert _declared_types(suite) == ddl_types

    not_null = {e["kwargs"]["column"] for e in _exps(suite, "expect_column_values_to_not_be_null")}
    assert set(spec.required) | {"_source_file", "_line_number"} <= not_null
    [unique] = _exps(suite, "expect_compound_columns_to_be_unique")
    assert unique["kwargs"]["column_list"] == [*spec.key, "_source_file"]

    in_set = {
        e["kwargs"]["column"]: e["kwargs"]["value_set"]
        for e in _exps(suite, "expect_column_values_to_be_in_set", "rows")
    }
    assert in_set == {c.name: list(c.enum) for c in spec.columns if c.kind == "enum"}
    between = {
        e["kwargs"]["column"]: e["kwargs"] for e in _exps(suite, "expect_column_values_to_be_between", "rows")
    }
    for col in spec.columns:
        if col.min_value is None and col.max_value is None:
            continue
        kw = between[col.name]
        assert kw.get("min_value") == (None if col.min_value is None else int(col.min_value))
        assert kw.get("max_value") == (None if col.max_value is None else int(col.max_value))
        assert bool(kw.get("strict_min")) == col.min_exclusive
    for e in _exps(suite, "expect_compound_columns_to_be_unique") + _exps(
        suite, "expect_column_values_to_not_be_null"
    ):
        assert e["severity"] == "critical"


@pytest.mark.parametrize("model", sorted(_mart_models()))
def test_mart_suite_follows_the_dbt_contract(model):
    doc = _mart_models()[model]
    suite = SUITES[model]
    assert suite.asset_key == dg.AssetKey([model])
    contract = {c["name"]: c["data_type"].upper().replace(" ", "") for c in doc["columns"]}
    [columns] = _exps(suite, "expect_table_columns_to_match_set", "schema")
    assert columns["kwargs"]["column_set"] == list(contract)
    declared = {c: t.upper().replace(" ", "") for c, t in _declared_types(suite).items()}
    assert declared == contract


def test_whole_feed_failures_have_the_severity_of_the_readme_matrix():
    """The checks the severity matrix (README, docs/quality.md) names, with the severity it states."""
    expected = {
        ("raw_orders", "volume"): "WARN",  # an empty day; a third of the usual orders
        ("raw_orders", "order_value"): "ERROR",  # amounts x100
        ("raw_channels", "snapshot_size"): "ERROR",  # the master loses half its channels
        ("raw_surveys", "score_distribution"): "ERROR",  # every score 10
        ("raw_orders", "unknown_channels"): "ERROR",  # a third on unknown channels (a few: WARN)
        ("raw_orders", "repeated_orders"): "ERROR",  # the day delivered twice under new ids
        ("raw_orders", "customer_spread"): "ERROR",  # every customer_id of the day the same
        ("raw_orders", "quarantine"): "WARN",  # many quarantined lines
    }
    also_warns = {("raw_orders", "unknown_channels")}  # orders on a channel not listed yet: WARN
    for (suite, check), severity in expected.items():
        assert SUITES[suite].checks[check].blocking == (severity == "ERROR"), (suite, check)
        allowed = {severity, "WARN"} if (suite, check) in also_warns else {severity}
        assert SUITES[suite].checks[check].severities == allowed, (suite, check)


def test_definitions_carry_a_check_per_suite_and_publish_after_every_mart():
    from dagster_project.definitions import defs
    from dagster_project.publish.assets import PUBLISH_KEY

    graph = defs.resolve_asset_graph()
    assets = set(graph.get_all_asset_keys())
    check_keys = set(graph.asset_check_keys)
    for suite in SUITES.values():
        if suite.asset_key not in assets:
            continue
        for name, check in suite.checks.items():
            key = dg.AssetCheckKey(suite.asset_key, name)
            assert key in check_keys, key
            assert graph.get_check_spec(key).blocking == check.blocking, key
    marts = {k for k in assets if graph.get(k).group_name in ("core", "marts")}
    publish = graph.get(PUBLISH_KEY)
    assert publish.group_name == "publish"
    assert marts <= set(publish.parent_keys)
    assert not {k for k in publish.parent_keys if k.path[0] == "raw" or graph.get(k).group_name == "staging"}
    # Publish runs once per run over the run's window (only the raw feeds are day-partitioned).
    assert publish.partitions_def is None
