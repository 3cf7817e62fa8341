"""Settings from environment variables, with the defaults documented in the README.

Relative paths are taken from the current directory (the project root for `make` targets) and
resolved to absolute ones, because dbt runs from `dbt/` and must see the same files.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dagster_project.errors import UserError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The first daily partition when SALESMP_PARTITIONS_START is unset and the landing zone has no day yet.
FALLBACK_PARTITIONS_START = date(1990, 1, 1)
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# DuckDB's memory_limit: a number with a unit of bytes (1GB, 512MB, 1.5GiB) or a share of the RAM (80%).
_MEMORY_LIMIT = re.compile(r"^\d+(\.\d+)?\s*([KMGT]i?B|[KMGT]|B|%)$", re.IGNORECASE)


def iso_day(name: str) -> date | None:
    """The day of a landing folder named YYYY-MM-DD (never YYYYMMDD, never 2025-02-30), else None."""
    if not _ISO_DAY.match(name):
        return None
    try:
        return date.fromisoformat(name)
    except ValueError:
        return None


def earliest_landing_day(landing: Path) -> date | None:
    """The earliest <feed>/YYYY-MM-DD folder of the landing zone (any feed), None if there is none."""
    from dagster_project.ingest.feeds import FEEDS

    days = []
    for feed in FEEDS:
        try:
            days += [d for p in (landing / feed).iterdir() if p.is_dir() and (d := iso_day(p.name))]
        except OSError:
            continue
    return min(days) if days else None


# The dbt project is the repository root (dbt_project.yml); its profile lives in dbt/ beside the macros
# and singular tests; dbt writes its artifacts (the manifest Dagster loads) into target/.
DBT_PROJECT_DIR = PROJECT_ROOT
DBT_PROFILES_DIR = PROJECT_ROOT / "dbt"
DBT_TARGET_DIR = PROJECT_ROOT / "target"


def _platform_owners() -> list[str]:
    """The owners written once in dbt_project.yml's model meta (`dagster: owners`)."""
    import yaml

    project = yaml.load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    return list(project["models"]["salesmp"]["+meta"]["dagster"]["owners"])


# The owners of the Python assets, the same as the dbt models'.
PLATFORM_OWNERS = _platform_owners()


@dataclass(frozen=True)
class Settings:
    landing: Path
    warehouse: Path
    serving: Path
    site: Path
    dagster_home: Path
    tz: str
    partitions_start: date
    duckdb_memory_limit: str
    duckdb_threads: int
    landing_settle_seconds: float = 2.0
    landing_wait_seconds: float = 30.0


def _path(var: str, default: str) -> Path:
    return Path(os.environ.get(var) or default).expanduser().resolve()


def load_settings() -> Settings:
    tz = os.environ.get("SALESMP_TZ") or "Asia/Shanghai"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UserError(f"SALESMP_TZ={tz!r} is not a known IANA time zone such as Asia/Shanghai.") from exc
    landing = _path("SALESMP_LANDING", "data/landing")
    start_text = os.environ.get("SALESMP_PARTITIONS_START")
    if start_text:
        start = iso_day(start_text)
        if start is None:
            raise UserError(f"SALESMP_PARTITIONS_START={start_text!r} is not a YYYY-MM-DD date.")
    else:  # from the data: the earlier of the landing zone's earliest day and 1990-01-01 (stable keys)
        start = min(earliest_landing_day(landing) or FALLBACK_PARTITIONS_START, FALLBACK_PARTITIONS_START)
    threads_text = (os.environ.get("SALESMP_DUCKDB_THREADS") or "2").strip()
    if not threads_text.isdigit() or int(threads_text) < 1:
        raise UserError(f"SALESMP_DUCKDB_THREADS={threads_text!r} is not a positive whole number such as 2.")
    memory_limit = (os.environ.get("SALESMP_DUCKDB_MEMORY_LIMIT") or "1GB").strip()
    if not _MEMORY_LIMIT.match(memory_limit):
        raise UserError(
            f"SALESMP_DUCKDB_MEMORY_LIMIT={memory_limit!r} is not a memory size: a number with a unit such as "
            "1GB, 512MB or 2GiB, or a share of the machine's memory such as 50%."
        )
    return Settings(
        landing=landing,
        warehouse=_path("SALESMP_WAREHOUSE", "data/warehouse.duckdb"),
        serving=_path("SALESMP_SERVING", "data/serving.duckdb"),
        site=_path("SALESMP_SITE", "data/site"),
        dagster_home=_path("DAGSTER_HOME", "data/dagster_home"),
        tz=tz,
        partitions_start=start,
        duckdb_memory_limit=memory_limit,
        duckdb_threads=int(threads_text),
        landing_settle_seconds=_seconds("SALESMP_LANDING_SETTLE_SECONDS", 2.0),
        landing_wait_seconds=_seconds("SALESMP_LANDING_WAIT_SECONDS", 30.0),
    )


def _seconds(var: str, default: float) -> float:
    """A number of seconds, 0 or more (fractions allowed)."""
    text = (os.environ.get(var) or "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise UserError(f"{var}={text!r} is not a number of seconds (0 or more, such as {default:g}).")
    return value
