"""The daily arrival partition of the raw feeds, and the arrival days a run covers.

Only the raw assets are partitioned by day. The dbt models, the gates and the publish step are
unpartitioned: they run once per run over the run's arrival window, which they read from the run's
partition tags. Partitioning them too would make Dagster record one event per model, check and day
(hundreds of thousands for a two-year backfill) before any step runs.
"""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg

from dagster_project.config import load_settings

_settings = load_settings()

# The partition key is the arrival day (the landing folder's date); end_offset=1 admits today.
daily_partitions = dg.DailyPartitionsDefinition(
    start_date=_settings.partitions_start.isoformat(),
    timezone=_settings.tz,
    end_offset=1,
)

PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def days_in(context: dg.AssetExecutionContext) -> list[date]:
    """Every day of a partitioned asset's partition range (a backfill is one run over a range)."""
    window = context.partition_time_window
    return _days(window.start.date(), (window.end - timedelta(days=1)).date())


def run_days(tags: dict[str, str]) -> list[date] | None:
    """The arrival days of a run from its partition tags; None for a run without partitions."""
    try:
        if RANGE_START_TAG in tags and RANGE_END_TAG in tags:
            return _days(date.fromisoformat(tags[RANGE_START_TAG]), date.fromisoformat(tags[RANGE_END_TAG]))
        if PARTITION_TAG in tags:
            day = date.fromisoformat(tags[PARTITION_TAG])
            return [day]
    except ValueError:
        return None
    return None
