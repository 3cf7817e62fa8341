"""The contract between a Dagster run and dbt: the `--vars` one `dbt build` receives.

Pure functions, no I/O, so the contract is tested on its own (tests/test_dbt_vars.py):
- the connection: the warehouse as an absolute path, DuckDB's memory limit and threads, and the time
  zone of every local date (dbt/profiles.yml and dbt_project.yml read these vars first, then the
  environment, so a dbt command typed by hand still works);
- the arrival window `[min_date, max_date)` the incremental models read, from the run's days.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from dagster_project.config import Settings


def connection_vars(settings: Settings) -> dict[str, Any]:
    """What dbt's profile needs to open the same warehouse as the Dagster process, the same way."""
    return {
        "warehouse": str(settings.warehouse.resolve()),
        "duckdb_memory_limit": settings.duckdb_memory_limit,
        "dbt_threads": settings.duckdb_threads,
        "tz": settings.tz,
    }


def arrival_window(days: Sequence[date] | None, latest_loaded: date | None) -> dict[str, str] | None:
    """The arrival window of a run over `days`; None (every arrival) for a run without days.

    A rerun of old days rebuilds from its first day up to the latest day loaded, not to its own last
    day: the facts then hold every later day again and the marts stay as of D, the latest arrival (a
    window ending before D would rewind them and delete later month snapshots). `max_date` is exclusive.
    """
    if not days:
        return None
    first, last = min(days), max(days)
    if latest_loaded is not None and latest_loaded > last:
        last = latest_loaded
    return {"min_date": first.isoformat(), "max_date": (last + timedelta(days=1)).isoformat()}


def dbt_vars(settings: Settings, days: Sequence[date] | None, latest_loaded: date | None) -> dict[str, Any]:
    """Every var of one `dbt build` of a run: the connection and, for a run with days, its window."""
    return {**connection_vars(settings), **(arrival_window(days, latest_loaded) or {})}
