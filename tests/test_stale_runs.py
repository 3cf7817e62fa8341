"""A run left STARTED by a process killed with -9 never blocks the next one.

Real processes and a real Dagster instance: a child `salesmp`-tagged run is made to stand in the
instance as STARTED by a process that is then killed; `fail_stale_runs` (what `salesmp run` calls
before it starts) marks it failed and leaves the run of a live process alone. The dagster.yaml that
salesmp writes turns on run monitoring for runs launched by the daemon or the UI."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import dagster as dg
import yaml
from dagster._core.storage.dagster_run import DagsterRun

from dagster_project.stale_runs import HOST_TAG, PID_TAG, fail_stale_runs, process_tags


def _started_run(instance: dg.DagsterInstance, pid: int) -> str:
    run = instance.add_run(DagsterRun(job_name="salesmp_pipeline", tags={PID_TAG: str(pid),
                                                                        HOST_TAG: socket.gethostname()}))
    instance.handle_run_event(run.run_id, dg.DagsterEvent(
        event_type_value=dg.DagsterEventType.RUN_START.value, job_name="salesmp_pipeline", message="started"))
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED
    return run.run_id


def test_a_run_of_a_killed_process_is_failed_and_a_live_one_is_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    from dagster_project.instance import prepare_dagster_home

    prepare_dagster_home()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    with dg.DagsterInstance.get() as instance:
        zombie = _started_run(instance, child.pid)
        child.send_signal(signal.SIGKILL)
        child.wait()
        live = _started_run(instance, int(process_tags()[PID_TAG]))  # this test's own process
        assert fail_stale_runs(instance) == [zombie]
        assert instance.get_run_by_id(zombie).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(live).status == dg.DagsterRunStatus.STARTED
        assert fail_stale_runs(instance) == []  # once is enough


def test_the_dagster_yaml_turns_on_run_monitoring(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    from dagster_project.instance import prepare_dagster_home

    home = prepare_dagster_home()
    config = yaml.safe_load((home / "dagster.yaml").read_text())
    assert config["run_monitoring"]["enabled"] is True
    assert config["concurrency"]["runs"]["max_concurrent_runs"] == 1
    with dg.DagsterInstance.get() as instance:  # the file is a valid instance configuration
        assert instance.run_monitoring_enabled
