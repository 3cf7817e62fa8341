"""The daily arrival partition shared by every asset of the pipeline."""

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


def days_in(context: dg.AssetExecutionContext) -> list[date]:
    """Every day of the run's partition range (a backfill is one run over a range)."""
    window = context.partition_time_window
    first = window.start.date()
    last = (window.end - timedelta(days=1)).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
