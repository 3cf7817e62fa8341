"""`salesmp`: generate a landing zone and run the pipeline over it.

Every failure a user can cause ends with one sentence on stderr and a non-zero exit code.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import threading
import uuid
from datetime import date
from pathlib import Path

from dagster_project.errors import UserError
from dagster_project.instance import prepare_dagster_home
from dagster_project.run_output import (
    failed_run_sentence,
    print_load_summary,
    report_progress,
    run_warnings,
    stop_leftover_log_tails,
)

EXIT_USER_ERROR = 2
EXIT_RUN_FAILED = 1


def _date_arg(flag: str, text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"{flag} {text!r} is not a date in the form YYYY-MM-DD.") from None


# --------------------------------------------------------------------------------------------------
# generate
# --------------------------------------------------------------------------------------------------


def cmd_generate(args: argparse.Namespace) -> int:
    from dagster_project.generator.profiles import PROFILES

    profile = PROFILES[args.profile]  # argparse allows only known names
    start = _date_arg("--start", args.start) or profile.start
    args.days = profile.days if args.days is None else args.days
    args.customers = profile.customers if args.customers is None else args.customers
    args.orders = profile.orders if args.orders is None else args.orders
    for flag, value in (("--days", args.days), ("--customers", args.customers), ("--orders", args.orders)):
        if value < 1:
            raise UserError(f"{flag} must be at least 1, not {value}.")
    if not 0 <= args.defect_rate < 1:
        raise UserError(f"--defect-rate must be between 0 and 1, not {args.defect_rate}.")
    out = Path(args.out).expanduser()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"The output folder {out} cannot be created: {exc.strerror}.") from exc
    if not os.access(out, os.W_OK):
        raise UserError(f"The output folder {out} is not writable.")
    from dagster_project.generator import generate_landing_zone

    truth = generate_landing_zone(
        out,
        seed=args.seed,
        start=start,
        days=args.days,
        customers=args.customers,
        orders=args.orders,
        defect_rate=args.defect_rate,
        file_format=args.format,
        tz=os.environ.get("SALESMP_TZ") or "Asia/Shanghai",
        progress=not args.quiet,
        profile=args.profile,
    )
    truth_file = out / "_ground_truth.json"
    print(f"Wrote the landing zone to {out} ({_rows_written(truth):,} rows); ground truth in {truth_file}.")
    return 0


def _rows_written(truth: dict) -> int:
    return sum(day["rows_written"] for feed in truth["feeds"].values() for day in feed.values())


# --------------------------------------------------------------------------------------------------
# run
# --------------------------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from dagster_project import run_supervisor

    if not run_supervisor.is_worker():  # the supervisor: the run executes in a worker process group
        return run_supervisor.supervise(args.argv)
    run_supervisor.watch_supervisor()
    if args.landing:
        os.environ["SALESMP_LANDING"] = str(Path(args.landing).expanduser().resolve())
    from dagster_project.config import load_settings

    settings = load_settings()
    first_arg = _date_arg("--from", args.date_from)
    last_arg = _date_arg("--to", args.date_to)
    if first_arg and last_arg and first_arg > last_arg:
        raise UserError(f"--from {first_arg} is after --to {last_arg}.")
    if not settings.landing.is_dir():
        raise UserError(
            f"The landing zone {settings.landing} does not exist; create it with "
            f"`salesmp generate --out {settings.landing}` or set SALESMP_LANDING."
        )
    from dagster_project.ingest.sensors import landing_days, landing_problems, range_tags

    problems = landing_problems(settings.landing)  # what this run will not read, listed again at its end
    for line in problems:
        print(f"WARN {line}", flush=True)

    days = sorted(date.fromisoformat(d) for d in landing_days(settings.landing))
    if first_arg or last_arg:
        first = first_arg or (days[0] if days else None)
        last = last_arg or (days[-1] if days else None)
    else:
        first, last = (days[0], days[-1]) if days else (None, None)
    if first is None or last is None:
        raise UserError(f"The landing zone {settings.landing} has no <feed>/<YYYY-MM-DD> folders to load.")
    if first < settings.partitions_start:
        raise UserError(
            f"{first} is before the first partition {settings.partitions_start}; "
            "set SALESMP_PARTITIONS_START to an earlier date."
        )
    today = date.today()
    if last > today:
        raise UserError(f"{last} is in the future (today is {today}); arrival days cannot be later than today.")

    # One run per warehouse, held until this process ends; refused before anything is changed.
    run_supervisor.acquire_run_lock(settings.warehouse)
    # Fail fast, with one sentence, when the warehouse is locked or cannot be written.
    from dagster_project.resources import connect_duckdb

    connect_duckdb(
        settings.warehouse, tz=settings.tz, memory_limit=settings.duckdb_memory_limit, threads=1
    ).close()
    from dagster_project import pii_key

    if args.rekey:
        os.environ["SALESMP_PII_REKEY"] = "1"  # read by dbt's pii_plugin: record the new key's fingerprint
    pii_key.preflight(settings.warehouse, tz=settings.tz)  # the key exists, is not public, is the warehouse's

    prepare_dagster_home()
    # One "planned" event per asset for a range instead of one per asset and day: a two-year backfill
    # would otherwise write ~6,000 events before its first step. (Partitions of a failed range run then
    # show as missing, not failed; raw.ingest_log and the run's logs tell which days failed.)
    os.environ.setdefault("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "1")
    # Hand a range's per-partition materializations to the event log as one batch (event_storage.py).
    os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", "1000")
    import dagster as dg

    from dagster_project.definitions import defs

    job = defs.resolve_job_def("salesmp_pipeline")
    n_days = (last - first).days + 1
    print(f"Materializing {n_days} partition(s) {first}..{last} as one run (landing {settings.landing}) ...",
          flush=True)
    from dagster_project.stale_runs import fail_stale_runs, process_tags

    with dg.DagsterInstance.get() as instance:
        for stale in fail_stale_runs(instance):
            print(f"Run {stale} was left in progress by a process that is gone; marked it failed.", flush=True)
        catch_up_parquet_export(settings)
        run_id = str(uuid.uuid4())  # what Dagster itself uses for a run id
        outcome: dict = {}

        def execute() -> None:
            try:
                outcome["result"] = job.execute_in_process(
                    instance=instance,
                    run_id=run_id,
                    tags={**range_tags(first.isoformat(), last.isoformat()), **process_tags()},
                    raise_on_error=False,
                    run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
                )
            except BaseException as exc:  # re-raised in the main thread
                outcome["error"] = exc

        worker = threading.Thread(target=execute, name="salesmp-run", daemon=True)
        # dbt's own log lines go to the run's compute logs; the terminal gets one line per step.
        with contextlib.redirect_stdout(io.StringIO()), run_supervisor.cancellable(instance, run_id):
            worker.start()
            report_progress(instance, run_id, worker)
        worker.join()
        stop_leftover_log_tails()
        if "error" in outcome:
            raise outcome["error"]
        result = outcome["result"]
    if not result.success:
        print_load_summary(settings.warehouse, first, last, settings.tz)
        raise RunFailed(failed_run_sentence(result))
    print_load_summary(settings.warehouse, first, last, settings.tz)
    with dg.DagsterInstance.get() as instance:
        warns = run_warnings(instance, result.run_id)
    if warns or problems:
        print(f"{len(warns) + len(problems)} WARN(s) in this run (published, flagged):")
        for line in [*problems, *warns]:
            print(f"  WARN {line}")
    print(f"Run {result.run_id} succeeded" + (f" with {len(warns) + len(problems)} WARN(s)." if warns or problems
                                              else " with no WARN."))
    from dagster_project.reports.assets import ReportsFailed, build_reports

    print(f"Building the monthly reports {first:%Y-%m}..{last:%Y-%m} ...", flush=True)
    try:
        pages = build_reports(first, last)
    except ReportsFailed as exc:
        raise RunFailed(str(exc)) from exc
    print(f"Reports: {settings.site / 'reports'} ({len(pages)} pages)")
    return 0


class RunFailed(Exception):
    pass


def catch_up_parquet_export(settings) -> None:
    """Re-export the serving file's build when the Parquet export holds another one (a run killed
    between the serving rename and its export), so BI files and database again show one build."""
    from dagster_project.bi.parquet_export import catch_up_export

    caught_up = catch_up_export(
        serving=settings.serving, site=settings.site, tz=settings.tz,
        memory_limit=settings.duckdb_memory_limit, threads=settings.duckdb_threads,
    )
    if caught_up is not None:
        held, report = caught_up
        export, verb = (f"The Parquet export held build {held}", "re-exported") if held else (
            "There was no Parquet export", "exported")
        print(f"{export} while the serving database holds build {report.build_id}; "
              f"{verb} it from the serving database ({report.target}).", flush=True)


def cmd_marts(args: argparse.Namespace) -> int:
    """Print a few rows of every mart from the serving database (read-only, what BI sees)."""
    from dagster_project.config import load_settings
    from dagster_project.publish.coverage import missing_feed_note
    from dagster_project.resources import connect_duckdb

    settings = load_settings()
    if not settings.serving.exists():
        raise UserError(f"The serving database {settings.serving} does not exist yet; run `salesmp run` first.")
    con = connect_duckdb(settings.serving, tz=settings.tz, memory_limit="512MB", threads=1, read_only=True)
    try:
        tables = [
            t for (t,) in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'mart_%' "
                "AND table_name <> 'mart_status' ORDER BY 1"
            ).fetchall()
        ]
        print(f"Marts in {settings.serving} (first {args.rows} rows of each):")
        for table in tables:
            total = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            note = missing_feed_note(con, table) if not total else None
            print(f"\n{table} ({total:,} rows{': ' + note if note else ''})")
            print(con.execute(f'SELECT * FROM "{table}" LIMIT {int(args.rows)}').df().to_string(max_colwidth=24))
    finally:
        con.close()
    return 0


def _open_warehouse_for_accept():
    from dagster_project.config import load_settings
    from dagster_project.resources import connect_duckdb

    settings = load_settings()
    if not settings.warehouse.exists():
        raise UserError(f"The warehouse {settings.warehouse} does not exist yet; run `salesmp run` first.")
    prepare_dagster_home()
    return connect_duckdb(settings.warehouse, tz=settings.tz, memory_limit="512MB", threads=1, read_only=True)


def cmd_accept(args: argparse.Namespace) -> int:
    """Record (or with --revoke remove) the acceptance of a blocking check result for one day."""
    from dagster_project.quality import acceptances

    day = _date_arg("DAY", args.day)
    if args.revoke:
        prepare_dagster_home()
        gone = acceptances.revoke(args.asset, args.check, day)
        print(f"Revoked the acceptance of {gone.check} on {gone.asset} for {gone.day} ({gone.reason}).")
        return 0
    if not args.reason:
        raise UserError("--reason is required: say why the result is right (it goes into publish_log).")
    con = _open_warehouse_for_accept()
    try:
        item = acceptances.accept(con, args.asset, args.check, day, args.reason)
    finally:
        con.close()
    print(
        f"Accepted {item.check} on {item.asset} for {item.day} as reviewed by {item.who} "
        f"(rows:hash {item.fingerprint}); the next `salesmp run` shows it as WARN and publishes. "
        f"Stored in {acceptances.store_path()}."
    )
    return 0


def cmd_accepted(args: argparse.Namespace) -> int:
    from dagster_project.quality import acceptances

    prepare_dagster_home()
    items = acceptances.load()
    if not items:
        print(f"No accepted exceptions ({acceptances.store_path()}).")
        return 0
    print(f"{'asset':<22}{'check':<20}{'day':<12}{'who':<12}{'when':<27}reason")
    for a in sorted(items, key=lambda a: a.key()):
        print(f"{a.asset:<22}{a.check:<20}{a.day:<12}{a.who:<12}{a.at:<27}{a.reason}")
    return 0


# --------------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="salesmp", description="Sales-customer data mid-platform.")
    sub = parser.add_subparsers(dest="command", required=True)

    from dagster_project.generator.profiles import PROFILES, profiles_help

    gen = sub.add_parser(
        "generate",
        help="write a seeded sample landing zone and its _ground_truth.json",
        epilog=profiles_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    gen.add_argument("--out", required=True, help="landing-zone folder to write")
    gen.add_argument("--profile", choices=list(PROFILES), default="default", help="shape of the data (below)")
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--start", help="first arrival day, YYYY-MM-DD (default: the profile's, 2025-01-01)")
    gen.add_argument("--days", type=int, help="days to generate (default: the profile's, 365)")
    gen.add_argument("--customers", type=int, help="customers (default: the profile's, 20,000)")
    gen.add_argument("--orders", type=int, help="orders (default: the profile's, 300,000)")
    gen.add_argument("--defect-rate", type=float, default=0.001)
    gen.add_argument("--format", choices=["csv", "jsonl", "parquet", "mixed"], default="mixed")
    gen.add_argument("--quiet", action="store_true", help="no progress bar")
    gen.set_defaults(func=cmd_generate)

    run = sub.add_parser("run", help="materialize every partition of the landing zone as one run")
    run.add_argument("--landing", help="landing-zone folder (default $SALESMP_LANDING or data/landing)")
    run.add_argument("--from", dest="date_from", help="first arrival day, YYYY-MM-DD")
    run.add_argument("--to", dest="date_to", help="last arrival day, YYYY-MM-DD")
    run.add_argument("--rekey", action="store_true",
                     help="accept a new PII key: every pseudonym is recomputed under it in this run")
    run.set_defaults(func=cmd_run)

    marts = sub.add_parser("marts", help="print a few rows of every published mart (serving database)")
    marts.add_argument("--rows", type=int, default=3)
    marts.set_defaults(func=cmd_marts)
    acc = sub.add_parser(
        "accept",
        help="let a reviewed blocking check result through (or --revoke the acceptance)",
        description="Record that the ERROR of CHECK on ASSET for arrival day DAY was reviewed and is right: "
        "the next run shows it as WARN and publishes, and publish_log lists the acceptance. It holds only "
        "while the day's data is as reviewed (a day delivered again with other content is judged afresh).",
    )
    acc.add_argument("asset", help="the asset of the check, e.g. raw/orders")
    acc.add_argument("check", help="the check, e.g. order_value")
    acc.add_argument("day", help="the arrival day, YYYY-MM-DD")
    acc.add_argument("--reason", help="why the result is right (required unless --revoke)")
    acc.add_argument("--revoke", action="store_true", help="remove the acceptance instead")
    acc.set_defaults(func=cmd_accept)

    accd = sub.add_parser("accepted", help="list the accepted exceptions")
    accd.set_defaults(func=cmd_accepted)

    from dagster_project.metrics_cli import add_metrics_parser

    add_metrics_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its one-line usage error
        return int(exc.code or 0) and EXIT_USER_ERROR
    args.argv = argv  # `run` hands them on to its worker process
    try:
        return args.func(args)
    except UserError as exc:
        print(f"salesmp: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except RunFailed as exc:
        print(f"salesmp: the run failed: {exc}", file=sys.stderr)
        return EXIT_RUN_FAILED
    except KeyboardInterrupt:
        print("salesmp: interrupted.", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the promise is one sentence, never a traceback
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"salesmp: unexpected error ({type(exc).__name__}): {first}", file=sys.stderr)
        return EXIT_RUN_FAILED


if __name__ == "__main__":
    sys.exit(main())
