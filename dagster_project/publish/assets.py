"""The `serving/publish` asset: after every gate of the build passed, publish the marts for BI."""

from collections.abc import Sequence
from typing import Any

import dagster as dg
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from dagster_project.config import PLATFORM_OWNERS, load_settings
from dagster_project.partitions import run_days
from dagster_project.publish.serving import publish_marts
from dagster_project.resources import DuckDBWarehouse

PUBLISH_KEY = dg.AssetKey(["serving", "publish"])
# The dbt groups whose tables are published: the core dimensions and facts, and the marts.
PUBLISHED_GROUPS = ("core", "marts")


def check_label(key: dg.AssetCheckKey) -> str:
    return f"{key.asset_key.to_user_string()}:{key.name}"


def latest_check_results(context: dg.AssetExecutionContext) -> dict[str, dict[str, Any]]:
    """The latest evaluation of every asset check of the code location (ours and the dbt tests).

    In a normal build every check ran earlier in this run (each suite has a blocking check, so its
    step runs before anything downstream); a check that did not run in this run keeps its latest
    result, so publishing on its own after a failed build is refused too.
    """
    # The job's asset graph: every check the code location defines (the pipeline job selects all).
    graph = context.job_def.asset_layer.asset_graph
    keys = [k for k in graph.asset_check_keys if k.asset_key != PUBLISH_KEY]
    records = context.instance.event_log_storage.get_latest_asset_check_execution_by_key(keys)
    results: dict[str, dict[str, Any]] = {}
    for key, record in sorted(records.items(), key=lambda kv: check_label(kv[0])):
        if record.status not in (
            AssetCheckExecutionRecordStatus.SUCCEEDED,
            AssetCheckExecutionRecordStatus.FAILED,
        ):
            continue
        evaluation = record.event.dagster_event.event_specific_data if record.event else None
        if evaluation is None:
            continue
        summary = evaluation.metadata.get("summary")
        results[check_label(key)] = {
            "passed": bool(evaluation.passed),
            "severity": evaluation.severity.value,
            "run": "this build" if record.run_id == context.run.run_id else record.run_id,
            "summary": summary.value if summary is not None else evaluation.description,
        }
        used = evaluation.metadata.get("acceptances")
        if used is not None:  # a blocking result let through by `salesmp accept`
            results[check_label(key)]["acceptances"] = used.value
    return results


def mart_keys(assets: Sequence[dg.AssetsDefinition]) -> list[dg.AssetKey]:
    """The dbt models of the core and marts groups (dims, facts, marts): what the serving database holds."""
    keys = []
    for a in assets:
        for spec in a.specs:
            if spec.group_name in PUBLISHED_GROUPS:
                keys.append(spec.key)
    return sorted(keys, key=lambda k: k.to_user_string())


def build_publish_asset(assets: Sequence[dg.AssetsDefinition]) -> dg.AssetsDefinition:
    marts = mart_keys(assets)
    # Without dbt marts (yet), publish after everything given, so it still waits for the gates.
    upstream = marts or sorted({k for a in assets for k in a.keys}, key=lambda k: k.to_user_string())

    @dg.asset(
        key=PUBLISH_KEY,
        group_name="publish",
        deps=upstream,
        owners=PLATFORM_OWNERS,
        kinds={"duckdb"},
        tags={"layer": "serving"},
        description=(
            "Write-audit-publish: copies the marts (schema `marts` of the warehouse, nothing else) into a "
            "new "
            "DuckDB file, audits it (row counts, no personal data in clear, every ERROR check of the build "
            "passed) and renames it atomically over SALESMP_SERVING, with `publish_log` carried over plus "
            "this build's row. Runs only when the dbt tests and the blocking quality checks passed."
        ),
    )
    def publish(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
        settings = load_settings()
        days = run_days(context.run.tags) or []
        checks = latest_check_results(context)
        report = publish_marts(
            warehouse=settings.warehouse,
            serving=settings.serving,
            build_id=context.run.run_id,
            partition_first=days[0] if days else None,
            partition_last=days[-1] if days else None,
            check_results=checks,
            tables=[k.path[-1] for k in marts],
            tz=warehouse.tz,
            memory_limit=warehouse.memory_limit,
            threads=warehouse.threads,
        )
        flagged = [k for k, r in checks.items() if not r["passed"]]
        if flagged:
            context.log.warning(f"Published with {len(flagged)} WARN check(s) failing: {', '.join(flagged)}")
        return dg.MaterializeResult(
            metadata={
                "serving": dg.MetadataValue.path(str(report.serving)),
                "build_id": report.build_id,
                "marts": len(report.row_counts),
                "rows": sum(report.row_counts.values()),
                "row_counts": dg.MetadataValue.json(report.row_counts),
                "kept_unchanged": sum(1 for c in report.changes.values() if c == "kept"),
                "changes": dg.MetadataValue.json(report.changes),
                "checks_passed": sum(1 for r in checks.values() if r["passed"]),
                "flagged": ", ".join(flagged) or "-",
                "publish_log_rows": report.log_rows,
                "seconds": round(report.seconds, 2),
            }
        )

    return publish
