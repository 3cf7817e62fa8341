"""The asset graph: a snapshot of every key, group and dependency, plus the house rules for specs.

A refactor that silently drops or regroups an asset fails here. Regenerate the snapshot on purpose
with `UPDATE_SNAPSHOTS=1 pytest tests/test_asset_graph.py`.
"""

from __future__ import annotations

import json
import os

import dagster as dg

from dagster_project.definitions import defs
from dagster_project.ingest.feeds import FEEDS
from tests.conftest import ROOT

SNAPSHOT = ROOT / "tests" / "snapshots" / "asset_specs.json"


def _specs() -> dict[str, dg.AssetSpec]:
    return {s.key.to_user_string(): s for s in defs.resolve_all_asset_specs()}


def _snapshot() -> dict:
    out = {}
    for key, spec in sorted(_specs().items()):
        out[key] = {
            "group": spec.group_name,
            "deps": sorted(d.asset_key.to_user_string() for d in spec.deps),
            "partitioned": spec.partitions_def is not None,
        }
        policy = spec.freshness_policy  # seeds/feed_freshness.csv with SALESMP_FRESHNESS unset
        if policy is not None:
            out[key]["late_after_hours"] = policy.fail_window.to_timedelta().total_seconds() / 3600
    return out


def test_asset_graph_matches_snapshot():
    current = _snapshot()
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    assert SNAPSHOT.exists(), f"{SNAPSHOT} is missing: write it on purpose with UPDATE_SNAPSHOTS=1 and review it."
    assert current == json.loads(SNAPSHOT.read_text())


def test_every_asset_has_description_owner_and_kind():
    for key, spec in _specs().items():
        assert spec.description, f"{key} has no description"
        assert spec.owners, f"{key} has no owner"
        assert spec.kinds, f"{key} has no kind tag"
        assert spec.group_name in {
            "landing", "raw", "staging", "core", "intermediate", "marts", "seeds", "publish", "docs", "bi", "reports"
        }, key


def test_raw_feeds_feed_dbt_and_publish_waits_for_marts():
    specs = _specs()
    for feed in FEEDS:
        assert specs[f"raw/{feed}"].partitions_def is not None
    graph = defs.resolve_asset_graph()
    upstream = graph.get(dg.AssetKey(["mart_customer_rfm"])).parent_keys
    assert upstream, "mart_customer_rfm has no upstream"
    ancestors = graph.upstream_key_iterator(dg.AssetKey(["serving", "publish"]))
    names = {k.to_user_string() for k in ancestors}
    assert {"raw/orders", "mart_customer_rfm", "mart_nps", "mart_channel_health", "mart_sales_kpis"} <= names


def test_only_raw_feeds_are_day_partitioned_and_user_outputs_follow_publish():
    """dbt, checks and publish run once per run over its window (see dagster_project/partitions.py)."""
    specs = _specs()
    daily = {k for k, s in specs.items() if isinstance(s.partitions_def, dg.DailyPartitionsDefinition)}
    assert daily == {f"raw/{feed}" for feed in FEEDS}
    assert isinstance(specs["reports/monthly_reports"].partitions_def, dg.MonthlyPartitionsDefinition)
    graph = defs.resolve_asset_graph()
    for key in (["docs", "dbt_docs"], ["reports", "monthly_reports"]):
        assert dg.AssetKey(["serving", "publish"]) in graph.get(dg.AssetKey(key)).parent_keys, key


def test_dbt_tests_and_expectations_are_asset_checks():
    checks = list(defs.resolve_asset_graph().asset_check_keys)
    on_marts = {c.asset_key.to_user_string() for c in checks}
    assert "mart_customer_rfm" in on_marts and "raw/orders" in on_marts
    assert len(checks) > 100
