"""Freshness the Dagster UI shows: which landing feed is late, and whether the marts were published.

A raw feed asset materializes every day of its run, also a day without files, so its materialization
does not say that the feed delivered. Each feed therefore has a delivery asset, `landing/<feed>`,
that raw/<feed> materializes only when it read a landing file with rows that the warehouse had not
loaded before, or that changed since it was loaded (a re-delivery). Dagster's time-window freshness
policy, evaluated by its freshness daemon, measures the time since an asset's last materialization:
on `landing/<feed>` that is the time since the feed's last real delivery, on `serving/publish` the time
since the last publish. The windows are rows of seeds/feed_freshness.csv; SALESMP_FRESHNESS overrides
the late window of any row (`orders=36h,sales_targets=40d`).
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg

from dagster_project.config import PLATFORM_OWNERS, PROJECT_ROOT
from dagster_project.errors import UserError
from dagster_project.ingest.feeds import FEEDS

FRESHNESS_SEED = PROJECT_ROOT / "seeds" / "feed_freshness.csv"
FRESHNESS_ENV = "SALESMP_FRESHNESS"
PUBLISH_ASSET = "serving/publish"
LANDING_GROUP = "landing"
# Dagster refuses freshness windows under a minute.
MIN_WINDOW = timedelta(minutes=1)
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([hmd]?)$", re.IGNORECASE)
_UNIT = {"": "hours", "h": "hours", "m": "minutes", "d": "days"}


def landing_key(feed: str) -> dg.AssetKey:
    return dg.AssetKey(["landing", feed])


@dataclass(frozen=True)
class Window:
    late_after: timedelta
    warn_after: timedelta | None

    def policy(self) -> dg.FreshnessPolicy:
        return dg.FreshnessPolicy.time_window(fail_window=self.late_after, warn_window=self.warn_after)

    def describe(self) -> str:
        warn = f", a warning after {_hours(self.warn_after)}" if self.warn_after else ""
        return f"late after {_hours(self.late_after)}{warn}"


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours >= 48 and hours % 24 == 0:
        return f"{hours / 24:g} days"
    return f"{hours:g} hours" if hours >= 1 else f"{delta.total_seconds() / 60:g} minutes"


def parse_duration(text: str) -> timedelta | None:
    """`30`, `30h`, `90m`, `35d` (a bare number is hours); None if it is not one."""
    match = _DURATION.match(text.strip())
    if not match:
        return None
    return timedelta(**{_UNIT[match.group(2).lower()]: float(match.group(1))})


def _seed_windows(path: Path = FRESHNESS_SEED) -> dict[str, Window]:
    windows: dict[str, Window] = {}
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            asset = row["asset"].strip()
            try:
                late = timedelta(hours=float(row["late_after_hours"]))
                warn_text = (row.get("warn_after_hours") or "").strip()
                warn = timedelta(hours=float(warn_text)) if warn_text else None
            except ValueError:
                raise UserError(f"{path.name}: the row of {asset} has hours that are not numbers.") from None
            if late < MIN_WINDOW or (warn is not None and not MIN_WINDOW <= warn < late):
                raise UserError(
                    f"{path.name}: the row of {asset} needs late_after_hours of at least 1 minute and "
                    "warn_after_hours below it."
                )
            windows[asset] = Window(late, warn)
    expected = (*FEEDS, PUBLISH_ASSET)
    unknown = [a for a in windows if a not in expected]
    if unknown:
        raise UserError(f"{path.name} has a row for {', '.join(unknown)}, which is neither a feed nor serving/publish.")
    missing = [a for a in expected if a not in windows]
    if missing:
        raise UserError(f"{path.name} has no row for {', '.join(missing)}; add one per feed and serving/publish.")
    return windows


def _overrides(text: str, known: set[str]) -> dict[str, timedelta]:
    """`orders=36h,channels=90m`: the late window of each named asset."""
    found: dict[str, timedelta] = {}
    example = "such as orders=36h,sales_targets=40d,serving/publish=30h"
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        name = name.strip()
        delta = parse_duration(value) if sep else None
        if name not in known or delta is None or delta < MIN_WINDOW:
            raise UserError(
                f"{FRESHNESS_ENV}={text!r} is not a list of asset=duration of at least 1 minute "
                f"({example}; the assets are {', '.join(sorted(known))})."
            )
        found[name] = delta
    return found


def freshness_windows() -> dict[str, Window]:
    """The window of every feed and of serving/publish: the seed's, with SALESMP_FRESHNESS's late windows."""
    windows = _seed_windows()
    for name, late in _overrides(os.environ.get(FRESHNESS_ENV) or "", set(windows)).items():
        warn = windows[name].warn_after
        windows[name] = Window(late, warn if warn is not None and warn < late else None)
    return windows


def delivery_specs(windows: dict[str, Window]) -> list[dg.AssetSpec]:
    """One `landing/<feed>` asset per feed, upstream of raw/<feed>, carrying the feed's freshness policy."""
    return [
        dg.AssetSpec(
            key=landing_key(name),
            group_name=LANDING_GROUP,
            owners=PLATFORM_OWNERS,
            kinds={"file"},
            freshness_policy=windows[name].policy(),
            description=(
                f"Deliveries of the {name} feed into `<landing>/{name}/<day>/`. Materialized by raw/{name} "
                "only when it reads a file with rows that the warehouse had not loaded before or that changed "
                f"since (a re-delivery), so its freshness is the feed's: {windows[name].describe()} "
                "(seeds/feed_freshness.csv, SALESMP_FRESHNESS)."
            ),
        )
        for name in FEEDS
    ]


def files_loaded_before(con, feed: str, days: list[date]) -> dict[str, datetime]:
    """When each landing file of `days` was last loaded, from raw.ingest_log (before the run replaces it)."""
    if not days:
        return {}
    rows = con.execute(
        "SELECT source_file, max(_ingested_at) FROM raw.ingest_log WHERE feed = ? AND source_file IS NOT NULL "
        "AND partition_date BETWEEN ? AND ? GROUP BY source_file",
        [feed, min(days), max(days)],
    ).fetchall()
    return {path: at for path, at in rows}


def new_deliveries(landing: Path, results, loaded_before: dict[str, datetime]) -> list[tuple[str, datetime, int]]:
    """The files of this run with rows that were not loaded before or were modified after their last load,
    with their modification time and rows read: what the sender delivered since the last run of these days."""
    delivered = []
    for result in results:
        for f in result.files:
            if f.source_file is None or f.rows_read == 0:
                continue
            try:
                modified = datetime.fromtimestamp((landing / f.source_file).stat().st_mtime, UTC)
            except OSError:
                continue
            before = loaded_before.get(f.source_file)
            if before is None or modified > before:
                delivered.append((f.source_file, modified, f.rows_read))
    return delivered


def delivery_materialization(feed: str, delivered: list[tuple[str, datetime, int]]) -> dg.AssetMaterialization:
    newest_file, newest, _ = max(delivered, key=lambda d: d[1])
    return dg.AssetMaterialization(
        asset_key=landing_key(feed),
        description=f"{len(delivered)} new or re-delivered file(s) of {feed}.",
        metadata={
            "files_delivered": len(delivered),
            "rows_read": sum(d[2] for d in delivered),
            "newest_file": newest_file,
            "newest_file_modified": dg.MetadataValue.timestamp(newest.timestamp()),
        },
    )
