"""One daily-partitioned asset per landing feed: landing folder -> raw.<feed> + raw.quarantine."""

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from dagster_project.config import PLATFORM_OWNERS, load_settings
from dagster_project.freshness import delivery_materialization, files_loaded_before, landing_key, new_deliveries
from dagster_project.ingest.feeds import FEEDS, REASON_CODES, Feed
from dagster_project.ingest.landing_readiness import not_ready_sentence
from dagster_project.ingest.loader import PartitionResult, ensure_raw_schema, ingest_days
from dagster_project.partitions import daily_partitions, days_in
from dagster_project.resources import DuckDBWarehouse, checkpoint

MAX_DAYS_IN_METADATA = 31
LANDING_READY_CHECK = "landing_ready"


def _summary_table(results: list[PartitionResult]) -> str:
    lines = ["| day | files | read | loaded | quarantined | reasons |", "|---|---|---|---|---|---|"]
    for r in results:
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(r.reasons.items())) or "-"
        status = "no files (empty day)" if not r.files else str(len(r.files))
        if r.not_ready:
            status = f"{len(r.files)} + {len(r.not_ready)} still being written (not read)"
        lines.append(
            f"| {r.partition_date} | {status} | {r.rows_read} | {r.rows_loaded} | "
            f"{r.rows_quarantined} | {reasons} |"
        )
    return "\n".join(lines[:2] + lines[2:][-60:])


def build_raw_asset(feed: Feed) -> dg.AssetsDefinition:
    @dg.asset(
        name=feed.name,
        key_prefix=["raw"],
        group_name="raw",
        partitions_def=daily_partitions,
        deps=[landing_key(feed.name)],
        backfill_policy=dg.BackfillPolicy.single_run(),
        owners=PLATFORM_OWNERS,
        kinds={"duckdb", "python"},
        tags={"layer": "raw"},
        check_specs=[
            dg.AssetCheckSpec(
                LANDING_READY_CHECK,
                asset=dg.AssetKey(["raw", feed.name]),
                blocking=False,
                description="Every landing file of the run's days was complete when read (its size and mtime "
                "had settled); a file still being written is not read this run and is named here [WARN].",
            )
        ],
        description=(
            f"{feed.description} Reads landing folder `<landing>/{feed.name}/<day>/` for each arrival day "
            f"into `raw.{feed.name}` (every valid record as it arrived, typed, with lineage columns); "
            f"bad rows go to `raw.quarantine` with a reason code. Key: {' + '.join(feed.key)}."
        ),
    )
    def _raw_feed(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
        settings = load_settings()
        ingested_at = datetime.now(UTC)
        days = days_in(context)
        with warehouse.connect() as con:
            ensure_raw_schema(con)
            loaded_before = files_loaded_before(con, feed.name, days)
            results = ingest_days(
                con, settings.landing, feed.name, days, ingested_at,
                settle_seconds=settings.landing_settle_seconds, wait_seconds=settings.landing_wait_seconds,
            )
            checkpoint(con, Path(warehouse.path))  # a full disk fails this step, not a later one
        reasons: Counter = Counter()
        for r in results:
            reasons.update(r.reasons)
        read = sum(r.rows_read for r in results)
        loaded = sum(r.rows_loaded for r in results)
        quarantined = sum(r.rows_quarantined for r in results)
        assert read == loaded + quarantined, "rows read must equal rows loaded + rows quarantined"
        empty_days = [r.partition_date.isoformat() for r in results if not r.files and not r.not_ready]
        not_ready = [str(settings.landing / p) for r in results for p in r.not_ready]
        if empty_days:
            context.log.warning(
                f"{feed.name}: no files for {len(empty_days)} day(s), e.g. {', '.join(empty_days[:5])}"
            )
        metadata = {
            "rows_read": read,
            "rows_loaded": loaded,
            "rows_quarantined": quarantined,
            "quarantined_by_reason": {code: reasons.get(code, 0) for code in REASON_CODES},
            "files": sum(len(r.files) for r in results),
            "empty_days": len(empty_days),
            "landing_folder": dg.MetadataValue.path(str(settings.landing / feed.name)),
        }
        # Dagster copies a range's metadata onto every partition's event: the per-day table goes to the
        # run log for long ranges, so a two-year backfill does not store it 730 times.
        if len(results) <= MAX_DAYS_IN_METADATA:
            metadata["days"] = dg.MetadataValue.md(_summary_table(results))
        else:
            context.log.info(f"{feed.name} per day:\n{_summary_table(results)}")
        metadata["files_still_being_written"] = len(not_ready)
        ready = dg.AssetCheckResult(
            check_name=LANDING_READY_CHECK,
            passed=not not_ready,
            severity=dg.AssetCheckSeverity.WARN,
            description=not_ready_sentence(f"raw/{feed.name}", not_ready) if not_ready else "Every file was complete.",
            metadata={
                "summary": not_ready_sentence(f"raw/{feed.name}", not_ready) if not_ready else "",
                "not_read": dg.MetadataValue.json(not_ready),
            },
        )
        if not_ready:
            context.log.warning(not_ready_sentence(f"raw/{feed.name}", not_ready))
        # landing/<feed> records a real delivery only: its freshness policy says when the feed is late.
        delivered = new_deliveries(settings.landing, results, loaded_before)
        metadata["files_delivered"] = len(delivered)
        if delivered:
            context.log_event(delivery_materialization(feed.name, delivered))
        return dg.MaterializeResult(metadata=metadata, check_results=[ready])

    return _raw_feed


raw_assets = [build_raw_asset(feed) for feed in FEEDS.values()]
RAW_ASSET_KEYS = [dg.AssetKey(["raw", name]) for name in FEEDS]

# Written by every raw feed asset in the same transaction as the feed's rows; declared here so the
# lineage shows them (dbt reads both as sources) with a group, owner and description.
raw_bookkeeping_specs = [
    dg.AssetSpec(
        key=["raw", "ingest_log"],
        group_name="raw",
        deps=RAW_ASSET_KEYS,
        owners=PLATFORM_OWNERS,
        kinds={"duckdb"},
        description="One row per landing file (rows read / loaded / quarantined, extra columns) and one "
        "row per feed and arrival day without files. Written by every raw feed asset.",
    ),
    dg.AssetSpec(
        key=["raw", "quarantine"],
        group_name="raw",
        deps=RAW_ASSET_KEYS,
        owners=PLATFORM_OWNERS,
        kinds={"duckdb"},
        description="Every rejected landing row with its reason_code and a one-sentence reason naming "
        "the column and the value. Written by every raw feed asset.",
    ),
]
