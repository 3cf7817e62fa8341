"""Bad input, end to end: the real `salesmp run` on a generated landing zone, gates and publishing.

One timeline (built once for the module) with BI readers looping read-only queries on the serving
database throughout:

1. days 1-24, clean: published.
2. day 25, the orders feed delivers no file (an empty day): WARN, published and flagged.
3. day 26, a third of the usual orders, plus one orders line for each quarantine reason: WARN
   (volume, quarantine), each line quarantined with its reason, published and flagged.

Then each ERROR case breaks day 27 of a copy of that state and runs it: blocked, nothing published,
`salesmp run` exits 1 with one sentence naming the check, the asset and the numbers. The case
table is the severity matrix of docs/quality.md.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.events import DagsterEventType
from dagster._core.instance.ref import InstanceRef

from dagster_project.generator import generate_landing_zone
from tests import quality_landing as ql
from tests.conftest import run_salesmp

START = date(2025, 3, 3)
DAYS = 28
READER = str(Path(__file__).resolve().parent / "serving_reader.py")


def day(n: int) -> date:
    """Arrival day n of the timeline, 1-based."""
    return START + timedelta(days=n - 1)


def _env(base: Path, data_env: dict[str, str]) -> dict[str, str]:
    env = dict(data_env)
    env.update(
        SALESMP_LANDING=str(base / "landing"),
        SALESMP_WAREHOUSE=str(base / "warehouse.duckdb"),
        SALESMP_SERVING=str(base / "serving.duckdb"),
        SALESMP_SITE=str(base / "site"),
        DAGSTER_HOME=str(base / "dagster_home"),
    )
    return env


def _run(env, first: date, last: date) -> subprocess.CompletedProcess:
    return run_salesmp(["run", "--from", first.isoformat(), "--to", last.isoformat()], env)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _publish_log(serving: Path) -> list[tuple]:
    con = duckdb.connect(str(serving), read_only=True)
    try:
        return con.execute(
            "SELECT build_id, partition_first, partition_last, checks_failed_warn, flagged, row_counts "
            "FROM publish_log ORDER BY published_at"
        ).fetchall()
    finally:
        con.close()


def _check_results(dagster_home: Path) -> dict[str, tuple[bool, str]]:
    """`asset:check` -> (passed, severity) of the newest pipeline run's own quality checks.

    (`salesmp run` launches the monthly report runs after the pipeline run.)"""
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(dagster_home))) as instance:
        run = instance.get_runs(filters=dg.RunsFilter(job_name="salesmp_pipeline"), limit=1)[0]
        records = instance.all_logs(run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
        out = {}
        for r in records:
            ev = r.dagster_event.event_specific_data
            if "suite" in ev.metadata:
                out[f"{ev.asset_key.to_user_string()}:{ev.check_name}"] = (ev.passed, ev.severity.value)
        return out


@pytest.fixture(scope="module")
def timeline(tmp_path_factory, data_env_module):
    base = tmp_path_factory.mktemp("timeline")
    env = _env(base, data_env_module)
    landing = base / "landing"
    generate_landing_zone(
        landing, seed=11, start=START, days=DAYS, customers=800, orders=6000, defect_rate=0.0,
        file_format="csv", progress=False,
    )
    ql.empty_day(landing, day(25))
    ql.third_of_orders(landing, day(26))
    channel = _first_value(landing / "channels" / day(26).isoformat(), "channel_id")
    customer = _first_value(landing / "customers" / day(1).isoformat(), "customer_id")
    reasons = ql.quarantine_reason_files(landing, day(26), channel, customer)

    stop = base / "stop-readers"
    readers = [
        subprocess.Popen([sys.executable, READER, str(base / "serving.duckdb"), str(stop),
                          str(base / f"reader{i}.json"), *flags])
        for i, flags in enumerate([[], ["--persistent"]])
    ]
    results = {}
    try:
        results["build1"] = _run(env, day(1), day(24))
        results["checks1"] = _check_results(base / "dagster_home")
        results["build2"] = _run(env, day(25), day(25))
        results["checks2"] = _check_results(base / "dagster_home")
        results["build3"] = _run(env, day(26), day(26))
        results["checks3"] = _check_results(base / "dagster_home")
    finally:
        stop.touch()
        for r in readers:
            r.wait(timeout=120)
    results["readers"] = [json.loads((base / f"reader{i}.json").read_text()) for i in range(2)]
    results["reasons"] = reasons
    return base, env, results


@pytest.fixture(scope="module")
def data_env_module(tmp_path_factory):
    """conftest's data_env, for a module-scoped timeline."""
    import os

    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["SALESMP_TZ"] = "Asia/Shanghai"
    return env


def _first_value(folder: Path, column: str) -> str:
    import csv

    path = sorted(folder.glob("*.csv"))[0]
    with path.open(encoding="utf-8", newline="") as fh:
        return next(csv.DictReader(fh))[column]


def _failed(checks: dict[str, tuple[bool, str]]) -> dict[str, str]:
    return {k: sev for k, (passed, sev) in checks.items() if not passed}


def test_clean_build_publishes(timeline):
    base, _, results = timeline
    assert results["build1"].returncode == 0, results["build1"].stderr[-2000:]
    # The generator's channel master lists one new channel days after its first orders (the feed
    # contract allows it): a handful of orders a day on it is flagged, never blocking.
    assert _failed(results["checks1"]) == {"raw/orders:unknown_channels": "WARN"}
    assert results["checks1"]  # the suites did run


def test_empty_day_is_published_and_flagged(timeline):
    base, _, results = timeline
    build = results["build2"]
    assert build.returncode == 0, build.stderr[-2000:]
    assert _failed(results["checks2"]) == {"raw/orders:volume": "WARN"}
    log = _publish_log(base / "serving.duckdb")
    assert log[1][1:5] == (day(25), day(25), 1, "raw/orders:volume")


def test_third_of_orders_and_quarantine_reasons_are_published_and_flagged(timeline):
    base, _, results = timeline
    build = results["build3"]
    assert build.returncode == 0, build.stderr[-2000:]
    assert _failed(results["checks3"]) == {"raw/orders:volume": "WARN", "raw/orders:quarantine": "WARN"}
    log = _publish_log(base / "serving.duckdb")
    assert [row[1] for row in log] == [day(1), day(25), day(26)]
    assert log[2][4] == "raw/orders:quarantine; raw/orders:volume"
    con = duckdb.connect(str(base / "warehouse.duckdb"), read_only=True)
    try:
        quarantined = dict(
            con.execute(
                "SELECT reason_code, count(*) FROM raw.quarantine "
                "WHERE feed = 'orders' AND partition_date = ? GROUP BY ALL",
                [day(26)],
            ).fetchall()
        )
    finally:
        con.close()
    assert quarantined == results["reasons"]


def test_readers_during_three_builds_never_fail_nor_see_a_mix(timeline):
    _, _, results = timeline
    stats = results["readers"]
    print("\nBI readers during 3 builds:",
          [{k: s[k] for k in ("queries", "failed", "mixed", "not_yet")} | {"builds": len(s["builds_seen"])}
           for s in stats])
    for s in stats:
        assert s["failed"] == 0, s["errors"][:5]
        assert s["mixed"] == 0
        assert len(s["builds_seen"]) == 3
        assert s["queries"] > 20


def test_data_docs_render_offline(timeline):
    base, _, _ = timeline
    docs = base / "site" / "data_docs"
    index = (docs / "index.html").read_text(encoding="utf-8")
    assert "raw_orders" in index and "mart_nps" in index
    for page in docs.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text, page
        assert "<script" not in text and "<link" not in text, page
    orders = (docs / "suites" / "raw_orders.html").read_text(encoding="utf-8")
    assert "Check volume on raw/orders failed (WARN)" in orders


# case -> (breakage of day 27, the blocking check that fails, words of the sentence)
ERROR_CASES = {
    "amounts x100": (ql.amounts_times_100, "raw/orders:order_value", "median_amount_deviation_vs_band = "),
    "channel master loses half": (
        ql.channel_master_loses_half, "raw/channels:snapshot_size", "channels_vs_previous_snapshot = 0.",
    ),
    "every score 10": (ql.all_scores_ten, "raw/surveys:score_distribution", ""),
    "a third on unknown channels": (
        ql.third_on_unknown_channels, "raw/orders:unknown_channels", "unknown_share_lower_bound = 0.",
    ),
}


def _copy_state(base: Path, target: Path) -> None:
    for name in ("landing", "dagster_home", "site"):
        shutil.copytree(base / name, target / name)
    # The PII key travels with its warehouse: a copy with another key would be refused.
    for name in ("warehouse.duckdb", "serving.duckdb", "pii.key"):
        shutil.copy(base / name, target / name)


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_error_case_blocks_publishing(timeline, tmp_path, data_env_module, case):
    base, _, _ = timeline
    breakage, check, words = ERROR_CASES[case]
    _copy_state(base, tmp_path)
    env = _env(tmp_path, data_env_module)
    breakage(tmp_path / "landing", day(27))
    before = _digest(tmp_path / "serving.duckdb")

    result = _run(env, day(27), day(27))

    assert result.returncode == 1, result.stdout[-2000:]
    [sentence] = [line for line in result.stderr.splitlines() if line.startswith("salesmp: ")]
    asset, name = check.split(":")
    assert f"Check {name} on {asset} failed (ERROR): " in sentence
    assert f"{day(27)}: {words}" in sentence
    assert "Nothing was published." in sentence
    # and last, the exact command that lets the reviewed day through
    assert sentence.endswith(f'salesmp accept {asset} {name} {day(27)} --reason "..."'), sentence
    failed = _failed(_check_results(tmp_path / "dagster_home"))
    assert failed[check] == "ERROR"
    assert _digest(tmp_path / "serving.duckdb") == before
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    try:  # the day's rows were loaded (valid lines) and nothing of them quarantined: the gate stops them
        quarantined = con.execute("SELECT count(*) FROM raw.quarantine WHERE partition_date = ?", [day(27)])
        assert quarantined.fetchone() == (0,)
    finally:
        con.close()

    if case == "amounts x100":
        # The broken day stays in raw; a later run must not publish it: its check fails again.
        again = _run(env, day(28), day(28))
        assert again.returncode == 1
        assert f"{day(27)}: median_amount_deviation_vs_band" in again.stderr
        assert _digest(tmp_path / "serving.duckdb") == before


def _acceptances(serving: Path) -> list:
    con = duckdb.connect(str(serving), read_only=True)
    try:
        return json.loads(con.execute("SELECT acceptances FROM publish_log ORDER BY published_at DESC").fetchone()[0])
    finally:
        con.close()


def test_accepting_a_reviewed_day_publishes_it_until_the_day_changes(timeline, tmp_path, data_env_module):
    """Block, accept, publish with the acceptance in publish_log; a re-delivered day with other content
    blocks again; after a revoke the accepted content blocks again too."""
    base, _, _ = timeline
    _copy_state(base, tmp_path)
    env = _env(tmp_path, data_env_module)
    ql.amounts_times_100(tmp_path / "landing", day(27))
    blocked = _run(env, day(27), day(27))
    assert blocked.returncode == 1
    [sentence] = [line for line in blocked.stderr.splitlines() if line.startswith("salesmp: ")]
    command = sentence.split("accept it and run again: ")[1]
    assert command == f'salesmp accept raw/orders order_value {day(27)} --reason "..."'
    before = _digest(tmp_path / "serving.duckdb")

    # the command as printed, with a reason
    args = command.split()[1:-1] + ["looked at the ERP: a one-off wholesale price list, right"]
    accepted = run_salesmp(args, env)
    assert accepted.returncode == 0, accepted.stderr
    listed = run_salesmp(["accepted"], env)
    assert "raw/orders" in listed.stdout and "order_value" in listed.stdout and str(day(27)) in listed.stdout
    assert (tmp_path / "dagster_home" / "acceptances.json").exists()

    published = _run(env, day(27), day(27))
    assert published.returncode == 0, published.stderr[-2000:]
    assert _digest(tmp_path / "serving.duckdb") != before
    assert _check_results(tmp_path / "dagster_home")["raw/orders:order_value"] == (False, "WARN")
    [used] = _acceptances(tmp_path / "serving.duckdb")
    assert (used["asset"], used["check"], used["day"]) == ("raw/orders", "order_value", str(day(27)))
    assert used["reason"].startswith("looked at the ERP") and used["who"] and used["at"]

    # the day delivered again with other content: judged afresh, blocked
    ql.third_of_orders(tmp_path / "landing", day(27))
    again = _run(env, day(27), day(27))
    assert again.returncode == 1 and "Check order_value on raw/orders failed (ERROR)" in again.stderr

    revoked = run_salesmp(["accept", "raw/orders", "order_value", str(day(27)), "--revoke"], env)
    assert revoked.returncode == 0, revoked.stderr
    assert "No accepted exceptions" in run_salesmp(["accepted"], env).stdout
    unknown = run_salesmp(["accept", "raw/orders", "no_such_check", str(day(27)), "--reason", "x"], env)
    assert unknown.returncode == 2 and "has no check 'no_such_check'" in unknown.stderr
