"""The command line's one-sentence errors, and the Dagster definitions."""

from __future__ import annotations

import subprocess
import sys
import time

import duckdb

from tests.conftest import ROOT, run_salesmp


def _one_sentence(result) -> str:
    err = result.stderr.strip()
    assert "Traceback" not in err, err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("salesmp: ")
    return err


def test_missing_landing_zone(data_env, tmp_path):
    result = run_salesmp(["run", "--landing", str(tmp_path / "nowhere")], data_env)
    assert result.returncode != 0
    assert "does not exist" in _one_sentence(result)


def test_bad_dates(data_env, tmp_path):
    (tmp_path / "landing" / "orders" / "2025-01-01").mkdir(parents=True)
    for args, words in (
        (["--from", "2025-13-01"], "is not a date"),
        (["--to", "yesterday"], "is not a date"),
        (["--from", "2025-02-01", "--to", "2025-01-01"], "is after"),
    ):
        result = run_salesmp(["run", *args], data_env)
        assert result.returncode != 0
        assert words in _one_sentence(result)


def test_generate_bad_arguments(data_env, tmp_path):
    result = run_salesmp(["generate", "--out", str(tmp_path / "x"), "--start", "2025-02-30"], data_env)
    assert result.returncode != 0 and "is not a date" in _one_sentence(result)
    result = run_salesmp(["generate", "--out", str(tmp_path / "x"), "--defect-rate", "2"], data_env)
    assert result.returncode != 0 and "defect-rate" in _one_sentence(result)


def test_unwritable_warehouse(data_env, tmp_path):
    (tmp_path / "landing" / "orders" / "2025-01-01").mkdir(parents=True)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    data_env["SALESMP_WAREHOUSE"] = str(blocker / "warehouse.duckdb")
    result = run_salesmp(["run"], data_env)
    assert result.returncode != 0
    assert "cannot be" in _one_sentence(result)


def test_locked_warehouse(data_env, tmp_path):
    (tmp_path / "landing" / "orders" / "2025-01-01").mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb,sys,time; c=duckdb.connect(sys.argv[1]); print('ok', flush=True); "
         "time.sleep(60)", data_env["SALESMP_WAREHOUSE"]],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        result = run_salesmp(["run"], data_env)
        assert result.returncode != 0
        assert "locked by another process" in _one_sentence(result)
    finally:
        holder.kill()
        holder.wait()


def test_empty_and_missing_days_are_an_outcome(data_env, tmp_path):
    import shutil
    from datetime import date

    from dagster_project.generator import generate_landing_zone

    landing = tmp_path / "landing"
    generate_landing_zone(landing, seed=3, start=date(2025, 1, 1), days=6, customers=200, orders=1500,
                          defect_rate=0.0, progress=False)
    shutil.rmtree(landing / "orders" / "2025-01-04")  # a missing day
    for f in (landing / "orders" / "2025-01-05").iterdir():  # an empty day folder
        f.unlink()
    result = run_salesmp(["run"], data_env)
    assert result.returncode == 0, result.stderr[-2000:]
    con = duckdb.connect(data_env["SALESMP_WAREHOUSE"], read_only=True)
    empty = con.execute(
        "SELECT partition_date::VARCHAR, rows_read FROM raw.ingest_log WHERE feed = 'orders' AND source_file IS NULL "
        "ORDER BY 1"
    ).fetchall()
    con.close()
    assert empty == [("2025-01-04", 0), ("2025-01-05", 0)]
    orders_line = next(line for line in result.stdout.splitlines() if line.strip().startswith("orders"))
    assert orders_line.split()[1] != "0"


def test_definitions_load_quickly_and_completely():
    start = time.perf_counter()
    code = (
        "from dagster_project.definitions import defs;"
        "specs = list(defs.resolve_all_asset_specs());"
        "print(len(specs));"
        "defs.resolve_job_def('salesmp_pipeline');"
        "print(sorted(s.name for s in defs.schedules), sorted(s.name for s in defs.sensors))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "daily_yesterday_schedule" in out.stdout and "landing_zone_sensor" in out.stdout
    assert time.perf_counter() - start < 60


def test_leftover_log_tails_are_stopped_after_a_run(tmp_path):
    """A `tail -F` child left running (what Dagster's log mirroring once left behind on CI) is stopped,
    and other children are not touched."""
    import psutil

    from dagster_project.run_output import stop_leftover_log_tails

    log = tmp_path / "compute.err"
    log.write_text("")
    tail = subprocess.Popen(["tail", "-F", "-c", "+0", str(log)], stdout=subprocess.DEVNULL)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert tail.pid in stop_leftover_log_tails()
        assert tail.wait(timeout=10) is not None
        assert sleeper.poll() is None and psutil.Process(sleeper.pid).is_running()
    finally:
        for proc in (tail, sleeper):
            proc.kill()
            proc.wait()
