"""What `salesmp run` prints around a Dagster run: step progress, the rows per feed, the WARNs, the one
sentence of a failed run, and the clean-up of log tails the run left behind."""

from __future__ import annotations

import contextlib
import sys
import threading
from datetime import date
from pathlib import Path

from dagster_project.errors import UserError
from dagster_project.sql import table_exists


def run_warnings(instance, run_id: str) -> list[str]:
    """One line per check of the run that failed as WARN: its sentence (check, asset, day, numbers)."""
    import dagster as dg

    lines = []
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        ev = record.dagster_event.event_specific_data
        if ev.passed or ev.severity != dg.AssetCheckSeverity.WARN:
            continue
        summary = ev.metadata.get("summary")
        text = str(summary.value).strip() if summary is not None else ""
        lines.append(text or f"Check {ev.check_name} on {ev.asset_key.to_user_string()} failed (WARN).")
    return lines

def failed_run_sentence(result) -> str:
    """One sentence for a failed run: a failed blocking check (its own summary: the check, the asset and
    the numbers), else the UserError raised in a step, else the step's error."""
    failed_checks = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and not e.event_specific_data.passed
        and e.event_specific_data.severity.value == "ERROR"
        and e.event_specific_data.blocking
    ]
    if failed_checks:
        first = failed_checks[0]
        summary = first.metadata.get("summary")
        if summary is not None:
            sentence = str(summary.value)
        else:  # a dbt test: its name, model and failing-row count
            failures = first.metadata.get("dagster_dbt/failed_row_count")
            count = f" with {failures.value:,} failing row(s)" if failures is not None else ""
            sentence = f"Check {first.check_name} on {first.asset_key.to_user_string()} failed (ERROR){count}."
        if len(failed_checks) > 1:
            sentence = sentence.rstrip(".") + f" (and {len(failed_checks) - 1} more failing blocking check(s))."
        sentence += " Nothing was published."
        if summary is not None:  # one of our suites: an operator who reviewed the day can let it through
            from dagster_project.quality.acceptances import accept_command

            days = first.metadata.get("error_days")
            day = (str(days.value).split(",")[0] if days is not None and days.value else None) or (
                result.dagster_run.tags.get("dagster/asset_partition_range_end")
                or result.dagster_run.tags.get("dagster/partition")
                or date.today().isoformat()
            )
            sentence += (
                " If you reviewed the day and it is right, accept it and run again: "
                + accept_command(first.asset_key.to_user_string(), first.check_name, day[:10])
            )
        return sentence
    for event in result.all_events:
        if not event.is_step_failure:
            continue
        error = event.step_failure_data.error
        chain = []
        while error is not None:
            chain.append(error)
            error = error.cause
        for err in chain:
            if err.cls_name == "UserError":
                return err.message.split(": ", 1)[-1].strip()
        deepest = chain[-1]
        first_line = deepest.message.strip().splitlines()[0] if deepest.message.strip() else deepest.cls_name
        return f"Step {event.step_key} failed: {first_line}"
    return "The run failed; see the run's logs in the Dagster UI (make ui)."

def stop_leftover_log_tails(timeout: float = 5.0) -> list[int]:
    """Stop `tail` processes this process started that outlived the run; return their pids.

    Dagster mirrors captured compute logs to the terminal through `tail -F` children and stops them
    when a capture ends. Once (on CI) two of them outlived a finished `salesmp run`, kept the
    caller's output pipes open and would have run forever. After the run nothing of ours needs them.
    """
    import psutil

    tails = []
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if child.name() == "tail":
                child.terminate()
                tails.append(child)
    _, alive = psutil.wait_procs(tails, timeout=timeout)
    for child in alive:
        with contextlib.suppress(psutil.Error):
            child.kill()
    return [t.pid for t in tails]

def report_progress(instance, run_id: str, worker: threading.Thread, every: float = 2.0) -> None:
    """Print a line to stderr each time a step of the run starts or ends, until the run is over."""
    import time

    started_at = time.monotonic()
    seen: dict[str, str] = {}
    while True:
        alive = worker.is_alive()
        try:
            stats = instance.get_run_step_stats(run_id) if instance.get_run_by_id(run_id) else []
        except Exception:  # noqa: BLE001 - progress is best effort; the run's outcome is what counts
            stats = []
        for st in sorted(stats, key=lambda x: x.start_time or 0):
            state = st.status.value if st.status else "STARTED"
            if seen.get(st.step_key) == state:
                continue
            seen[st.step_key] = state
            took = f" in {st.end_time - st.start_time:.1f}s" if st.end_time and st.start_time else ""
            elapsed = time.monotonic() - started_at
            print(f"  [{elapsed:6.0f}s] {st.step_key:<42} {state.lower().replace('_', ' ')}{took}",
                  file=sys.stderr, flush=True)
        if not alive:
            return
        worker.join(every)

def print_load_summary(warehouse: Path, first: date, last: date, tz: str) -> None:
    from dagster_project.ingest.feeds import FEEDS
    from dagster_project.resources import connect_duckdb

    if not warehouse.exists():
        return
    try:
        con = connect_duckdb(warehouse, tz=tz, memory_limit="512MB", threads=1, read_only=True)
    except UserError:
        return
    try:
        if not table_exists(con, "raw", "ingest_log"):
            return
        loaded = dict(
            (feed, (read, ok, bad))
            for feed, read, ok, bad in con.execute(
                """SELECT feed, sum(rows_read), sum(rows_loaded), sum(rows_quarantined) FROM raw.ingest_log
                   WHERE partition_date BETWEEN ? AND ? GROUP BY feed""",
                [first, last],
            ).fetchall()
        )
        reasons: dict[str, list[str]] = {}
        for feed, code, n in con.execute(
            """SELECT feed, reason_code, count(*) FROM raw.quarantine WHERE partition_date BETWEEN ? AND ?
               GROUP BY ALL ORDER BY feed, count(*) DESC""",
            [first, last],
        ).fetchall():
            reasons.setdefault(feed, []).append(f"{code}={n}")
    finally:
        con.close()
    print(f"\nRows per feed, arrival days {first}..{last}:")
    print(f"  {'feed':<18}{'read':>12}{'loaded':>12}{'quarantined':>13}  quarantined by reason")
    for feed in FEEDS:
        read, ok, bad = loaded.get(feed, (0, 0, 0))
        print(f"  {feed:<18}{read:>12,}{ok:>12,}{bad:>13,}  {', '.join(reasons.get(feed, [])) or '-'}")
