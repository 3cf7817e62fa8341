"""Settings from environment variables, with the defaults documented in the README.

Relative paths are taken from the current directory (the project root for `make` targets) and
resolved to absolute ones, because dbt runs from `dbt/` and must see the same files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dagster_project.errors import UserError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt"


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


def _path(var: str, default: str) -> Path:
    return Path(os.environ.get(var) or default).expanduser().resolve()


def load_settings() -> Settings:
    tz = os.environ.get("SALESMP_TZ") or "Asia/Shanghai"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UserError(f"SALESMP_TZ={tz!r} is not a known IANA time zone such as Asia/Shanghai.") from exc
    start_text = os.environ.get("SALESMP_PARTITIONS_START") or "2020-01-01"
    try:
        start = date.fromisoformat(start_text)
    except ValueError as exc:
        raise UserError(f"SALESMP_PARTITIONS_START={start_text!r} is not a YYYY-MM-DD date.") from exc
    threads_text = os.environ.get("SALESMP_DUCKDB_THREADS") or "2"
    if not threads_text.isdigit() or int(threads_text) < 1:
        raise UserError(f"SALESMP_DUCKDB_THREADS={threads_text!r} is not a positive whole number.")
    return Settings(
        landing=_path("SALESMP_LANDING", "data/landing"),
        warehouse=_path("SALESMP_WAREHOUSE", "data/warehouse.duckdb"),
        serving=_path("SALESMP_SERVING", "data/serving.duckdb"),
        site=_path("SALESMP_SITE", "data/site"),
        dagster_home=_path("DAGSTER_HOME", "data/dagster_home"),
        tz=tz,
        partitions_start=start,
        duckdb_memory_limit=os.environ.get("SALESMP_DUCKDB_MEMORY_LIMIT") or "1GB",
        duckdb_threads=int(threads_text),
    )
