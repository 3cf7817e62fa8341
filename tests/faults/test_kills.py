"""A `salesmp run` killed at any stage leaves nothing running, nothing half published, and the next
run ends where a clean run does (docs/operations.md, "Crashed and stuck runs").

One copy of the fault zone's clean build goes through, in order, real `salesmp run` processes:
(a) kill -9 during ingest; (b) a second run while the first is in dbt (refused), then kill -9 of the
first during dbt; (c) kill -9 during publish; the Parquet export's build marker is then made stale;
(d) a normal run; (e) SIGTERM during dbt. After each kill no process of that run is left, and the
serving file is the old one or the complete new one; (d) marks the killed runs failed, re-exports
the stale Parquet first, and ends equal to the clean build.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import psutil
import pytest

from dagster_project.bi.parquet_export import BUILD_MARKER, export_build_id, serving_build_id
from dagster_project.run_supervisor import lock_path
from dagster_project.stale_runs import IN_PROGRESS, PID_TAG
from tests.conftest import ROOT, SALESMP
from tests.faults.conftest import clone_build, differences, fingerprint

STAGE_TIMEOUT = 900  # seconds a run may take to reach a stage on a busy machine
PROGRESS_LINE = re.compile(r"^\s+\[\s*\d+s\] (\S+)\s+(.+)$", re.M)


def _steps() -> dict[str, set[str]]:
    """The step keys of the pipeline by stage, from the definitions."""
    from dagster_project.definitions import defs
    from dagster_project.publish.assets import PUBLISH_KEY

    stages: dict[str, set[str]] = {"ingest": set(), "dbt": set(), "publish": set()}
    for assets in defs.resolve_asset_graph().assets_defs:
        if not assets.is_executable or not assets.keys:
            continue
        kinds = set().union(*(spec.kinds for spec in assets.specs))
        if "dbt" in kinds:
            stages["dbt"].add(assets.node_def.name)
        elif PUBLISH_KEY in assets.keys:
            stages["publish"].add(assets.node_def.name)
        elif set(assets.group_names_by_key.values()) == {"raw"}:
            stages["ingest"].add(assets.node_def.name)
    assert all(stages.values()), stages
    return stages


class Run:
    """A `salesmp run` in its own session, its output in files that are polled."""

    def __init__(self, env: dict[str, str], folder: Path, name: str):
        self.out_path, self.err_path = folder / f"{name}.out", folder / f"{name}.err"
        self.started = time.monotonic()
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen([SALESMP, "run"], env=env, cwd=ROOT, stdout=out, stderr=err,
                                         start_new_session=True)

    def output(self) -> str:
        return self.out_path.read_text(errors="replace") + self.err_path.read_text(errors="replace")

    def wait_for_step(self, steps: set[str]) -> str:
        """Wait until a progress line names one of `steps`; that line's state."""
        deadline = time.monotonic() + STAGE_TIMEOUT
        while time.monotonic() < deadline:
            for step, state in PROGRESS_LINE.findall(self.err_path.read_text(errors="replace")):
                if step in steps:
                    return state.strip()
            assert self.proc.poll() is None, f"the run ended before {steps}:\n{self.output()[-3000:]}"
            time.sleep(0.2)
        raise AssertionError(f"no step of {steps} within {STAGE_TIMEOUT}s:\n{self.output()[-3000:]}")

    def worker(self) -> psutil.Process:
        children = psutil.Process(self.proc.pid).children()
        assert len(children) == 1, children
        return children[0]

    def kill9(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def wait(self, timeout: float = 1800) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)


def processes_of(root: Path) -> list[psutil.Process]:
    """Live processes whose command line or environment names a path under root (a run of that copy)."""
    mark = str(root)
    found = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if proc.pid == os.getpid() or proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if any(mark in part for part in proc.cmdline()) or any(mark in v for v in proc.environ().values()):
                found.append(proc)
    return found


def wait_until_gone(root: Path, timeout: float = 15.0) -> list[str]:
    """The processes of root still alive after `timeout` seconds (described), [] when all are gone."""
    deadline = time.monotonic() + timeout
    while True:
        left = processes_of(root)
        if not left or time.monotonic() > deadline:
            return [f"{p.pid} {' '.join(p.cmdline())[:160]}" for p in left if p.is_running()]
        time.sleep(0.5)


def alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def runs_of(env: dict[str, str]) -> dict[str, dict]:
    """{run_id: {"status", "pid"}} of the copy's Dagster instance, read in a separate process."""
    code = (
        "import json, dagster as dg\n"
        "with dg.DagsterInstance.get() as i:\n"
        f"    print(json.dumps({{r.run_id: {{'status': r.status.value, 'pid': r.tags.get({PID_TAG!r})}}"
        " for r in i.get_runs()}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def in_progress(env: dict[str, str]) -> dict[str, dict]:
    states = {s.value for s in IN_PROGRESS}
    return {rid: r for rid, r in runs_of(env).items() if r["status"] in states}


def killed_run(env: dict[str, str], worker_pid: int) -> str:
    """The one run left in progress, by the killed worker (the pid its run is tagged with); its id."""
    left = in_progress(env)
    assert [r["pid"] for r in left.values()] == [str(worker_pid)], (left, worker_pid)
    return next(iter(left))


def marked_failed(run: Run) -> set[str]:
    """The run ids a run's output says it marked failed."""
    return set(re.findall(r"^Run (\S+) .*marked it failed\.$", run.out_path.read_text(), re.M))


def dbt_processes(root: Path) -> list[psutil.Process]:
    out = []
    for proc in processes_of(root):
        with contextlib.suppress(psutil.Error):
            if any(Path(part).name == "dbt" for part in proc.cmdline()[:2]):
                out.append(proc)
    return out


@pytest.mark.timeout(5400)
def test_killed_runs_leave_nothing_running_and_the_next_run_recovers(fault_baseline, tmp_path):
    stages = _steps()
    root = tmp_path / "killed"
    root.mkdir()
    env = clone_build(fault_baseline["root"], root)
    serving = root / "serving.duckdb"
    original = sha256(serving)
    timings = {}

    # (a) kill -9 during ingest: the serving file is untouched, no process of the run survives.
    t0 = time.monotonic()
    run = Run(env, tmp_path, "a")
    run.wait_for_step(stages["ingest"])
    worker_pid = run.worker().pid
    run.kill9()
    assert wait_until_gone(root) == []
    assert sha256(serving) == original
    killed = killed_run(env, worker_pid)
    timings["a"] = time.monotonic() - t0

    # (b) a second run while the first is in dbt is refused at once; then kill -9 the first in dbt.
    t0 = time.monotonic()
    run = Run(env, tmp_path, "b")
    run.wait_for_step(stages["dbt"])
    assert marked_failed(run) == {killed}
    worker_pid = run.worker().pid
    deadline = time.monotonic() + 60
    while not (dbts := dbt_processes(root)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert dbts, "the run reports its dbt step but no dbt process of it was found"
    runs_before = runs_of(env)
    serving_before = sha256(serving)
    second = Run(env, tmp_path, "b2")
    assert second.wait(timeout=300) == 2, second.output()
    refused_in = time.monotonic() - second.started
    lines = second.output().strip().splitlines()
    assert len(lines) == 1 and str(worker_pid) in lines[0] and str(root / "warehouse.duckdb") in lines[0], lines
    assert lock_path(root / "warehouse.duckdb").read_text().strip() == str(worker_pid)
    assert runs_of(env).keys() == runs_before.keys()  # no Dagster run of its own
    assert sha256(serving) == serving_before
    assert run.proc.poll() is None, "the first run should still be running"
    run.kill9()
    assert wait_until_gone(root) == []
    assert not any(alive(p) for p in dbts)
    assert sha256(serving) == original
    killed = killed_run(env, worker_pid)
    timings["b"] = time.monotonic() - t0

    # (c) kill -9 during publish: serving is the old file or the complete new one, never a mix.
    t0 = time.monotonic()
    run = Run(env, tmp_path, "c")
    publish_state = run.wait_for_step(stages["publish"])
    worker_pid = run.worker().pid
    run.kill9()
    assert wait_until_gone(root) == []
    assert marked_failed(run) == {killed}
    killed = killed_run(env, worker_pid)
    assert differences(fingerprint(serving, skip=("publish_log",)), fault_baseline["serving"]) == []
    timings["c"] = time.monotonic() - t0

    # The Parquet export is made to hold another build than serving (as a kill right after the
    # serving rename leaves it).
    marker = root / "site" / "parquet" / BUILD_MARKER
    marker.write_text(json.dumps({**json.loads(marker.read_text()), "build_id": "a-build-of-a-killed-run"}))
    serving_build = serving_build_id(serving)
    assert export_build_id(root / "site") != serving_build

    # (d) a normal run: it marks the killed runs failed, catches the export up first, and ends clean.
    t0 = time.monotonic()
    run = Run(env, tmp_path, "d")
    assert run.wait() == 0, run.output()[-3000:]
    out = run.out_path.read_text()
    assert marked_failed(run) == {killed}
    caught_up = [line for line in out.splitlines() if "a-build-of-a-killed-run" in line]
    assert len(caught_up) == 1 and serving_build in caught_up[0], out[:2000]
    assert in_progress(env) == {}
    assert wait_until_gone(root) == []
    assert differences(fingerprint(root / "warehouse.duckdb"), fault_baseline["warehouse"]) == []
    assert differences(fingerprint(serving, skip=("publish_log",)), fault_baseline["serving"]) == []
    assert export_build_id(root / "site") == serving_build_id(serving) != serving_build
    timings["d"] = time.monotonic() - t0

    # (e) SIGTERM to `salesmp run` during dbt cancels it: one sentence, exit 128 + SIGTERM, the
    # worker marks its own run failed, and nothing of it is left running.
    t0 = time.monotonic()
    run = Run(env, tmp_path, "e")
    run.wait_for_step(stages["dbt"])
    os.kill(run.proc.pid, signal.SIGTERM)
    assert run.wait(timeout=120) == 128 + signal.SIGTERM, run.output()[-3000:]
    sentences = [line for line in run.err_path.read_text().splitlines() if line.startswith("salesmp:")]
    assert len(sentences) == 1 and signal.SIGTERM.name in sentences[0], run.output()[-3000:]
    assert wait_until_gone(root) == []
    assert in_progress(env) == {}
    timings["e"] = time.monotonic() - t0
    print(f"\nkills: publish step state at kill: {publish_state}; second run refused in {refused_in:.1f}s; "
          + ", ".join(f"({k}) {v:.0f}s" for k, v in timings.items()))


def test_the_run_lock_names_its_holder_and_is_released_when_it_dies(tmp_path):
    from dagster_project.errors import UserError
    from dagster_project.run_supervisor import acquire_run_lock

    warehouse = tmp_path / "warehouse.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from dagster_project.run_supervisor import acquire_run_lock; "
         f"acquire_run_lock(__import__('pathlib').Path({str(warehouse)!r})); print('held', flush=True); "
         "time.sleep(60)"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(UserError) as refused:
            acquire_run_lock(warehouse)
        assert str(holder.pid) in str(refused.value) and str(warehouse) in str(refused.value)
    finally:
        holder.kill()
        holder.wait()
    fd = acquire_run_lock(warehouse)  # the kernel released the dead holder's lock
    os.close(fd)


def test_a_stale_export_is_caught_up_from_the_serving_file(tmp_path):
    import duckdb

    from dagster_project.bi.parquet_export import catch_up_export
    from dagster_project.publish.serving import PUBLISH_LOG_DDL

    serving, site = tmp_path / "serving.duckdb", tmp_path / "site"
    with duckdb.connect(str(serving)) as con:
        con.execute(PUBLISH_LOG_DDL)
        con.execute("CREATE TABLE mart_example AS SELECT range AS n FROM range(5)")
        con.execute("INSERT INTO publish_log (build_id, published_at) VALUES ('build-1', now())")
    held, report = catch_up_export(serving=serving, site=site)  # no export yet
    assert held is None and report.build_id == "build-1" == export_build_id(site)
    assert catch_up_export(serving=serving, site=site) is None  # one build in both: nothing to do
    with duckdb.connect(str(serving)) as con:  # a newer build published, its export never ran
        con.execute("INSERT INTO publish_log (build_id, published_at) VALUES ('build-2', now() + INTERVAL 1 SECOND)")
    held, report = catch_up_export(serving=serving, site=site)
    assert (held, report.build_id, export_build_id(site)) == ("build-1", "build-2", serving_build_id(serving))
    marker = json.loads((site / "parquet" / BUILD_MARKER).read_text())
    assert marker["build_id"] == "build-2"


def test_a_killed_worker_stops_its_group_and_the_supervisor_says_so(tmp_path):
    from dagster_project.generator import generate_landing_zone
    from tests.conftest import salesmp_env

    generate_landing_zone(tmp_path / "landing", seed=3, start=date(2025, 2, 10), days=2, customers=20,
                          orders=40, defect_rate=0.0, file_format="csv", progress=False)
    run = Run(salesmp_env(tmp_path), tmp_path, "w")
    deadline = time.monotonic() + STAGE_TIMEOUT
    while "Materializing" not in run.out_path.read_text() and time.monotonic() < deadline:
        assert run.proc.poll() is None, run.output()
        time.sleep(0.2)
    run.worker().kill()
    assert run.wait(timeout=120) == 1, run.output()
    sentences = [line for line in run.err_path.read_text().splitlines() if line.startswith("salesmp:")]
    assert len(sentences) == 1 and signal.SIGKILL.name in sentences[0], run.output()
    assert wait_until_gone(tmp_path) == []
