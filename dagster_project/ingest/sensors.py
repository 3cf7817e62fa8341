"""Automation: a sensor that notices new landing folders, and the daily schedule for yesterday."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from dagster_project.config import iso_day, load_settings
from dagster_project.ingest.feeds import FEEDS
from dagster_project.partitions import RANGE_END_TAG, RANGE_START_TAG


def landing_days(landing: Path) -> dict[str, float]:
    """Every YYYY-MM-DD folder of any feed, with the newest modification time below it."""
    found: dict[str, float] = {}
    for feed in FEEDS:
        root = landing / feed
        if not root.is_dir():
            continue
        for folder in root.iterdir():
            if iso_day(folder.name) is None:  # YYYYMMDD, 2025-02-30, notes: not a day
                continue
            if folder.is_dir():
                mtimes = [p.stat().st_mtime for p in folder.iterdir()] + [folder.stat().st_mtime]
                found[folder.name] = max(found.get(folder.name, 0.0), *mtimes)
    return found


def landing_problems(landing: Path) -> list[str]:
    """What the loader will not read, with its path: a folder that is not a feed of the contract
    (`order/`, `refunds/`), an entry of a feed that is not a YYYY-MM-DD day folder (`20250302`,
    `2025-02-30`, a file beside the day folders). Entries whose names start with `.` or `_` are the
    zone's own metadata (`.DS_Store`, the generator's `_ground_truth.json`) and are left out."""
    problems: list[str] = []
    if not landing.is_dir():
        return problems
    for entry in sorted(landing.iterdir()):
        if entry.name.startswith((".", "_")):
            continue
        if entry.name not in FEEDS:
            problems.append(
                f"landing: {entry} is not a feed folder (the feeds are {', '.join(FEEDS)}); it is not read."
            )
            continue
        if not entry.is_dir():
            problems.append(f"landing: {entry} is a file where the {entry.name} feed's folder belongs; it is not read.")
            continue
        for child in sorted(entry.iterdir()):
            if child.name.startswith((".", "_")):
                continue
            if not child.is_dir() or iso_day(child.name) is None:
                what = "folder" if child.is_dir() else "file"
                problems.append(
                    f"landing: {child} is a {what}, not a day folder of {entry.name} (YYYY-MM-DD, a date that "
                    "exists); it is not read."
                )
    return problems


def contiguous_ranges(days: list[str]) -> list[tuple[str, str]]:
    """Group sorted ISO days into contiguous (first, last) ranges."""
    ranges: list[tuple[str, str]] = []
    for day in sorted(days):
        if ranges and date.fromisoformat(day) - date.fromisoformat(ranges[-1][1]) == timedelta(days=1):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def range_tags(first: str, last: str) -> dict[str, str]:
    """Tags that make one run cover a partition range (single-run backfill policy)."""
    return {RANGE_START_TAG: first, RANGE_END_TAG: last}


def build_automation(job: dg.UnresolvedAssetJobDefinition):
    @dg.sensor(
        name="landing_zone_sensor",
        job=job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Requests one run per contiguous range of new or changed landing-zone date folders.",
    )
    def landing_zone_sensor(context: dg.SensorEvaluationContext):
        settings = load_settings()
        seen: dict[str, float] = json.loads(context.cursor) if context.cursor else {}
        current = landing_days(settings.landing)
        for line in landing_problems(settings.landing):
            context.log.warning(line)
        changed = [d for d, m in current.items() if seen.get(d) != m]
        if not changed:
            return dg.SkipReason(f"No new or changed date folders in {settings.landing}.")
        for first, last in contiguous_ranges(changed):
            signature = max(current[d] for d in changed if first <= d <= last)
            yield dg.RunRequest(run_key=f"{first}..{last}@{signature}", tags=range_tags(first, last))
        context.update_cursor(json.dumps(current, sort_keys=True))

    settings = load_settings()

    @dg.schedule(
        name="daily_yesterday_schedule",
        job=job,
        cron_schedule="30 1 * * *",
        execution_timezone=settings.tz,
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description="At 01:30 local time, materializes yesterday's arrival partition end to end.",
    )
    def daily_yesterday_schedule(context: dg.ScheduleEvaluationContext):
        now = context.scheduled_execution_time or datetime.now(ZoneInfo(settings.tz))
        yesterday = (now.astimezone(ZoneInfo(settings.tz)) - timedelta(days=1)).date().isoformat()
        return dg.RunRequest(run_key=yesterday, partition_key=yesterday)

    return landing_zone_sensor, daily_yesterday_schedule
