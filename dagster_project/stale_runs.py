"""Runs left `STARTED` by a process that is gone (kill -9, a crash, a reboot) are marked failed.

Dagster counts such a run as in progress for ever: with `max_concurrent_runs: 1` the queue would wait
behind it and no sensor or schedule run would start again. Two guards, one per way a run is launched:

- `salesmp run` executes its run in a worker process (dagster_project/run_supervisor.py) and tags it
  with that process (`salesmp/pid`, `salesmp/host`). Before it starts, it marks failed every run of
  this host in an in-progress state whose process no longer exists (a live process, such as a run
  still holding the run lock, is left alone: the run lock then refuses the new run with one sentence).
- Runs launched by the daemon or the UI are watched by Dagster's run monitoring (`run_monitoring` in
  the dagster.yaml `salesmp` writes): a run that does not start, or does not stop when cancelled,
  within 5 minutes is failed, and no run may last longer than 6 hours.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import dagster as dg

PID_TAG = "salesmp/pid"
HOST_TAG = "salesmp/host"
IN_PROGRESS = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def process_tags() -> dict[str, str]:
    """The tags that name the process executing a run."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def process_alive(pid: int) -> bool:
    """Whether `pid` is a live salesmp (or Python) process of this host; a recycled pid running
    something else counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc: trust the signal
    return b"salesmp" in cmdline or b"python" in cmdline or b"dagster" in cmdline


def fail_stale_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed every in-progress run of this host whose salesmp process is gone; their run ids."""
    host = socket.gethostname()
    failed = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=IN_PROGRESS)):
        pid = run.tags.get(PID_TAG)
        if pid is None or run.tags.get(HOST_TAG) != host or not pid.isdigit() or process_alive(int(pid)):
            continue
        instance.report_run_failed(
            run,
            message=(
                f"The process {pid} that executed this run is gone (killed or crashed); "
                "`salesmp run` marked the run failed so the next runs can start."
            ),
        )
        failed.append(run.run_id)
    return failed
