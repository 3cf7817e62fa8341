"""The Dagster instance salesmp runs on: DAGSTER_HOME and the dagster.yaml it writes there."""

from __future__ import annotations

import os
from pathlib import Path

from dagster_project.errors import UserError

DAGSTER_YAML_MARK = "# Written by salesmp."

DAGSTER_YAML = """\
# Written by salesmp. One run at a time: DuckDB allows one writing process per warehouse file.
# The event log is Dagster's SQLite storage in its usual place, writing each batch of asset events
# (a backfill's partitions) in one transaction (dagster_project/event_storage.py).
telemetry:
  enabled: false
concurrency:
  runs:
    max_concurrent_runs: 1
# A run that never starts, or never stops when cancelled, is failed after 5 minutes and no run lasts
# over 6 hours, so a crashed run cannot hold the queue (dagster_project/stale_runs.py).
run_monitoring:
  enabled: true
  start_timeout_seconds: 300
  cancel_timeout_seconds: 300
  max_runtime_seconds: 21600
  poll_interval_seconds: 60
event_log_storage:
  module: dagster_project.event_storage
  class: BatchedSqliteEventLogStorage
  config:
    base_dir: {events}
"""


def prepare_dagster_home() -> Path:
    """DAGSTER_HOME (default data/dagster_home) with a dagster.yaml limiting runs to one at a time."""
    home = Path(os.environ.get("DAGSTER_HOME") or "data/dagster_home").expanduser().resolve()
    try:
        home.mkdir(parents=True, exist_ok=True)
        yaml = home / "dagster.yaml"
        # Ours (new or from an older salesmp) is (re)written; a dagster.yaml of your own is left alone.
        if not yaml.exists() or yaml.read_text().startswith(DAGSTER_YAML_MARK):
            yaml.write_text(DAGSTER_YAML.format(events=home / "history" / "runs"))
    except OSError as exc:
        raise UserError(f"DAGSTER_HOME {home} cannot be created or written: {exc.strerror}.") from exc
    os.environ["DAGSTER_HOME"] = str(home)
    return home
