"""Landing faults: a file still being written, a renamed required column, a full disk, bad settings.

Each case is a real `salesmp run` on a copy of the shared clean build (`fault_baseline`); outcomes are
judged from what the test did (the lines it wrote, the column it renamed) and from the clean build's
fingerprint, never from figures of the code under test.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import threading
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.conftest import run_salesmp, salesmp_env
from tests.faults.conftest import LAST, START, clone_build, differences, fingerprint


def _output(result) -> str:
    return result.stdout + result.stderr


def _scalar(database: Path, sql: str, params: list) -> int:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql, params).fetchone()[0]


def _not_raw(prints: dict) -> dict:
    """The built tables (everything dbt and publish make), without the raw layer the loader replaces."""
    return {k: v for k, v in prints.items() if not k.startswith("raw.")}


# --------------------------------------------------------------------------------------------------
# settings (no build)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("SALESMP_DUCKDB_MEMORY_LIMIT", "abc"),
        ("SALESMP_DUCKDB_THREADS", "two"),
        ("SALESMP_LANDING_SETTLE_SECONDS", "soon"),
        ("SALESMP_LANDING_WAIT_SECONDS", "-1"),
    ],
)
def test_a_bad_setting_is_named_in_one_sentence(tmp_path, var, value):
    (tmp_path / "landing" / "orders" / "2025-02-10").mkdir(parents=True)
    env = {**salesmp_env(tmp_path), var: value}
    result = run_salesmp(["run"], env, timeout=300)
    assert result.returncode == 2, _output(result)[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and var in lines[-1] and repr(value) in lines[-1], _output(result)[-2000:]
    assert "Traceback" not in _output(result)
    assert "cannot be opened" not in _output(result)


# --------------------------------------------------------------------------------------------------
# landing readiness and dbt target pruning (units, no build)
# --------------------------------------------------------------------------------------------------


def test_a_file_is_read_only_once_settled(tmp_path):
    from dagster_project.ingest.landing_readiness import read_when_settled

    old = tmp_path / "old.csv"
    old.write_bytes(b"a\n1\n")
    os.utime(old, (time.time() - 60, time.time() - 60))  # a file copied with its mtime (cp -p, copy2)
    started = time.monotonic()
    assert read_when_settled(old, settle=2, wait=30).data == b"a\n1\n"
    assert time.monotonic() - started < 0.5  # no wait at all

    fresh = tmp_path / "fresh.csv"
    fresh.write_bytes(b"a\n2\n")  # written a moment ago and left alone: waited for at most the settle time
    started = time.monotonic()
    assert read_when_settled(fresh, settle=1, wait=30).data == b"a\n2\n"
    assert time.monotonic() - started < 1.5

    growing = tmp_path / "growing.csv"
    growing.write_bytes(b"a\n")
    stop = threading.Event()

    def append() -> None:
        while not stop.is_set():
            with growing.open("ab") as f:
                f.write(b"3\n")
            time.sleep(0.2)

    writer = threading.Thread(target=append)
    writer.start()
    try:
        started = time.monotonic()
        outcome = read_when_settled(growing, settle=1, wait=2)
        assert not outcome.ready and outcome.data is None
        assert 1.9 < time.monotonic() - started < 3.5
    finally:
        stop.set()
        writer.join()

    # changed while read: the stat after the read differs from the one before
    def read_and_touch(path: Path) -> bytes:
        data = path.read_bytes()
        with path.open("ab") as f:
            f.write(b"4\n")
        return data

    assert not read_when_settled(old, settle=0, wait=0, read=read_and_touch).ready


def test_dbt_target_keeps_the_newest_run_folders(tmp_path):
    from dagster_project.transform.assets import KEEP_TARGET_RUNS, prune_target_runs

    now = time.time()
    names = [f"salesmp_dbt-{i:07d}-abcdef{i}" for i in range(KEEP_TARGET_RUNS + 3)]
    for i, name in enumerate(names):
        (tmp_path / name).mkdir()
        (tmp_path / name / "manifest.json").write_text("{}")
        os.utime(tmp_path / name, (now - 1000 + i, now - 1000 + i))  # the last name is the newest
    (tmp_path / "manifest.json").write_text("{}")
    (tmp_path / "docs_site_cache").mkdir()
    prune_target_runs(tmp_path)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([*names[-KEEP_TARGET_RUNS:], "manifest.json", "docs_site_cache"])
    # A folder younger than the minimum age stays whatever its rank (another process's dbt may be using it).
    young = tmp_path / "salesmp_dbt-0000000-young"
    young.mkdir()
    os.utime(young, (now - 2000, now - 2000))
    prune_target_runs(tmp_path, min_age_seconds=3000)
    assert young.is_dir()
    prune_target_runs(tmp_path)
    assert not young.exists()


# --------------------------------------------------------------------------------------------------
# a file still being written when the run starts
# --------------------------------------------------------------------------------------------------


def _order_lines(day_folder: Path, prefix: str, n: int) -> tuple[str, list[str]]:
    """The header of the day's orders file and n of its records under new order ids, each a cent dearer
    per round through the file (valid orders, and not the same order again under a new id)."""
    main = sorted(day_folder.glob("orders_*.csv"))[0]
    rows = list(csv.reader(io.StringIO(main.read_text(encoding="utf-8"))))
    header, body = rows[0], rows[1:]
    at, amount = header.index("order_id"), header.index("amount")
    out = []
    for i in range(n):
        row = list(body[i % len(body)])
        row[at] = f"{prefix}{i:05d}"
        row[amount] = str(Decimal(row[amount]) + Decimal(i // len(body) + 1) / 100)
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(row)
        out.append(buf.getvalue())
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(header)
    return buf.getvalue(), out


def test_a_file_being_written_is_not_read_half_and_the_next_run_reads_it_whole(fault_baseline, tmp_path):
    env = clone_build(fault_baseline["root"], tmp_path)
    env["SALESMP_LANDING_WAIT_SECONDS"] = "3"
    day = LAST.isoformat()
    folder = tmp_path / "landing" / "orders" / day
    growing = folder / "orders_more.csv"
    header, lines = _order_lines(folder, "OGROW", 5000)
    written = 0
    stop = threading.Event()

    def writer() -> None:
        nonlocal written
        with growing.open("w", encoding="utf-8") as f:
            f.write(header)
            f.flush()
            while not stop.is_set() and written < len(lines):
                f.write(lines[written])
                f.flush()
                written += 1
                time.sleep(0.3)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        first = run_salesmp(["run", "--from", day, "--to", day], env)
    finally:
        stop.set()
        thread.join()
    assert first.returncode == 0, _output(first)[-3000:]
    warn = [line for line in first.stdout.splitlines() if "still being written" in line]
    assert warn and str(growing) in warn[0] and "the next run reads it" in warn[0], first.stdout[-3000:]
    print(f"\nfirst run, {written} lines written so far: {warn[0].strip()}")
    warehouse = tmp_path / "warehouse.duckdb"
    source = f"orders/{day}/{growing.name}"
    for table, column in (("raw.orders", "_source_file"), ("raw.quarantine", "source_file"),
                          ("raw.ingest_log", "source_file")):
        assert _scalar(warehouse, f"SELECT count(*) FROM {table} WHERE {column} = ?", [source]) == 0, table
    # the rest of the day was read as before: the build equals the clean one
    assert differences(fingerprint(warehouse), fault_baseline["warehouse"]) == []

    assert written > 10  # the writer ran for the whole first run
    second = run_salesmp(["run", "--from", day, "--to", day], env)
    assert second.returncode == 0, _output(second)[-3000:]
    assert "still being written" not in second.stdout
    raw_rows = _scalar(warehouse, "SELECT count(*) FROM raw.orders WHERE _source_file = ?", [source])
    quarantined = _scalar(warehouse, "SELECT count(*) FROM raw.quarantine WHERE source_file = ?", [source])
    logged = _scalar(warehouse, "SELECT sum(rows_read) FROM raw.ingest_log WHERE source_file = ?", [source])
    assert raw_rows + quarantined == written == logged
    assert raw_rows == written  # copies of valid orders under new ids
    print(f"second run: {written} lines written, {raw_rows} raw rows, {quarantined} quarantined, {logged} logged")


# --------------------------------------------------------------------------------------------------
# schema drift: a required column renamed upstream
# --------------------------------------------------------------------------------------------------


def test_a_renamed_required_column_blocks_until_accepted(fault_baseline, tmp_path):
    env = clone_build(fault_baseline["root"], tmp_path)
    day = (START + timedelta(days=12)).isoformat()
    landing = tmp_path / "landing"
    file = sorted((landing / "orders" / day).glob("orders_*.csv"))[0]
    text = file.read_text(encoding="utf-8")
    header, rest = text.split("\n", 1)
    columns = next(csv.reader([header]))
    assert "amount" in columns
    new_header = ",".join("order_amount" if c == "amount" else c for c in columns)
    file.write_text(new_header + "\n" + rest, encoding="utf-8")

    blocked = run_salesmp(["run", "--from", day, "--to", day], env)
    assert blocked.returncode != 0, _output(blocked)[-3000:]
    sentence = [line for line in blocked.stderr.splitlines() if line.strip()][-1]
    relative = file.relative_to(landing).as_posix()
    assert relative in sentence and "amount" in sentence and "schema_drift" in sentence, sentence
    print(f"\nrenamed column: exit {blocked.returncode}: {sentence}")
    assert "Traceback" not in _output(blocked)
    # nothing downstream of raw was built or published
    assert differences(_not_raw(fingerprint(tmp_path / "warehouse.duckdb")),
                       _not_raw(fault_baseline["warehouse"])) == []
    assert differences(fingerprint(tmp_path / "serving.duckdb", skip=("publish_log",)),
                       fault_baseline["serving"]) == []

    accept = run_salesmp(["accept", "raw/orders", "schema_drift", day, "--reason", "upstream renamed amount"], env)
    assert accept.returncode == 0, _output(accept)[-2000:]
    accepted = run_salesmp(["run", "--from", day, "--to", day], env)
    assert accepted.returncode == 0, _output(accepted)[-3000:]
    assert "Accepted" in accepted.stdout and "schema_drift" in accepted.stdout, accepted.stdout[-3000:]


# --------------------------------------------------------------------------------------------------
# a full disk under the warehouse
# --------------------------------------------------------------------------------------------------


def _mount_tmpfs(folder: Path, size_kb: int) -> str | None:
    """None when mounted, else why not (one sentence)."""
    if os.geteuid() != 0:
        return "mounting a small tmpfs needs root"
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(folder)],
                          capture_output=True, text=True)
    return None if done.returncode == 0 else f"mount -t tmpfs failed: {done.stderr.strip()}"


def test_a_full_disk_fails_the_run_with_its_cause_and_a_rerun_converges(fault_baseline, tmp_path):
    env = clone_build(fault_baseline["root"], tmp_path)
    disk = tmp_path / "disk"
    disk.mkdir()
    base = fault_baseline["root"]
    needed = sum((base / n).stat().st_size for n in ("warehouse.duckdb", "pii.key")) // 1024
    why = _mount_tmpfs(disk, needed + 256)  # the build and a quarter of a megabyte
    if why:
        pytest.skip(why)
    try:
        for name in ("warehouse.duckdb", "pii.key"):
            shutil.copy2(base / name, disk / name)
            (tmp_path / name).unlink()
        env["SALESMP_WAREHOUSE"] = str(disk / "warehouse.duckdb")
        day = LAST.isoformat()
        full = run_salesmp(["run", "--from", day, "--to", day], env)
        assert full.returncode != 0, _output(full)[-3000:]
        assert "No space left" in full.stderr or "ENOSPC" in full.stderr, _output(full)[-3000:]
        print(f"\nfull disk: exit {full.returncode}: {full.stderr.strip().splitlines()[-1]}")
        assert "Traceback" not in _output(full)

        subprocess.run(["mount", "-o", "remount,size=1024m", str(disk)], check=True)
        again = run_salesmp(["run", "--from", day, "--to", day], env)
        assert again.returncode == 0, _output(again)[-3000:]
        assert differences(fingerprint(disk / "warehouse.duckdb"), fault_baseline["warehouse"]) == []
        assert differences(fingerprint(tmp_path / "serving.duckdb", skip=("publish_log",)),
                           fault_baseline["serving"]) == []
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def test_dbt_target_run_folders_are_pruned_after_runs(fault_baseline):
    """After the runs above (and every other run of the session), target/ holds at most the newest few."""
    from dagster_project.config import DBT_TARGET_DIR
    from dagster_project.transform.assets import KEEP_TARGET_RUNS

    folders = [p for p in DBT_TARGET_DIR.glob("salesmp_dbt-*") if p.is_dir()]
    # An invocation that ended wrote run_results.json and then pruned; a killed one (tests/faults/
    # test_kills.py) did neither, so the last prune is the one after the newest ended invocation.
    ended = [p.stat().st_mtime for p in folders if (p / "run_results.json").exists()]
    assert ended, "no dbt run folder of an ended invocation at all"
    # That prune kept the newest few and the folders too young to prune (another test process may have
    # been running dbt on this checkout): of the folders 10 minutes older than it, at most the newest few.
    old = [p for p in folders if p.stat().st_mtime <= max(ended) - 600 - 120]
    assert len(old) <= KEEP_TARGET_RUNS, sorted(p.name for p in old)
