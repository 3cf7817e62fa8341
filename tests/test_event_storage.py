"""The batched SQLite event log stores a range run exactly as Dagster's own SQLite storage does."""


from pathlib import Path

import dagster as dg

from dagster_project.instance import DAGSTER_YAML

PARTITIONS = dg.DailyPartitionsDefinition(start_date="2024-01-01")


@dg.asset(partitions_def=PARTITIONS, backfill_policy=dg.BackfillPolicy.single_run())
def feed(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"days": len(context.partition_keys)})


def _run_range(home: Path, yaml: str, monkeypatch) -> dict:
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "1000")
    job = dg.define_asset_job("j", selection=[feed]).resolve(
        asset_graph=dg.Definitions(assets=[feed]).resolve_asset_graph()
    )
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            instance=instance,
            tags={"dagster/asset_partition_range_start": "2024-01-01",
                  "dagster/asset_partition_range_end": "2024-03-30"},
        )
        assert result.success
        key = dg.AssetKey("feed")
        records = instance.fetch_materializations(key, limit=1000).records
        return {
            "storage": type(instance.event_log_storage).__name__,
            "partitions": sorted(instance.get_materialized_partitions(key)),
            "events": sorted(r.partition_key for r in records),
            "metadata": {r.asset_materialization.metadata["days"].value for r in records},
            "latest": instance.get_latest_materialization_event(key).dagster_event.partition,
            "run_events": len(instance.all_logs(result.run_id)),
            "index_db": (home / "history" / "runs" / "index.db").exists(),
        }


def test_batched_storage_equals_the_default(tmp_path, monkeypatch):
    batched = _run_range(tmp_path / "batched", DAGSTER_YAML.format(events=tmp_path / "batched/history/runs"),
                         monkeypatch)
    default = _run_range(tmp_path / "default", "telemetry:\n  enabled: false\n", monkeypatch)
    assert batched["storage"] == "BatchedSqliteEventLogStorage"
    assert default["storage"] == "SqliteEventLogStorage"
    assert len(batched["partitions"]) == 90 and batched["index_db"]
    for field in ("partitions", "events", "metadata", "latest", "run_events", "index_db"):
        assert batched[field] == default[field], field
