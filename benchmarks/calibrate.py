"""`make calibrate`: the raw-feed gates on clean zones (false alarms) and on poisoned days (caught or missed).

    python -m benchmarks.calibrate [--small] [--zones a,b] [--work DIR] [--out DIR] [--days-per-case N]
                                   [--expectations DIR] [--public DIR]

Each clean zone is a landing zone written by the generator (`salesmp generate`, its profiles) or
converted from a public data set (benchmarks/public_data.py). It is loaded with the project's loader
(dagster_project/ingest/loader.py) into one DuckDB file per zone, and every raw-feed suite
(expectations/raw_*.yml, read when the harness runs, so it measures the gates of the branch it runs
on) is validated over all the zone's arrival days at once with dagster_project/quality/validation.py,
as a backfill run validates them: no dbt build, no Dagster run.

- Clean zone: per suite and check, the arrival days with a failing ERROR (blocking) expectation: a
  blocking false alarm each, since the zone holds nothing wrong but for the generator's few
  defective lines (quarantined by the loader, a WARN matter). WARN days are counted beside them.
- Poisoned day: a copy of one arrival day's files is changed (amounts x100, a third of the orders on
  unknown channels, ...), loaded over the original day, and the suites that read that feed are
  validated on that day alone; then the original day is loaded back. Caught = a blocking result on
  that day. Each case is tried on up to three days of a zone with a full trailing history: the day
  with the median number of records, the smallest day and the largest one (a festival, where the
  zone has one), so the minimum evidence shows. Days whose clean validation already blocked are not
  used. Two cases are expected to WARN, never to block: an empty day and a third of the usual orders.

Results: benchmarks/results/calibration.json and calibration.md (`--small`: a tiny zone, written to
`--out` only, for the test). The 3M zone is lighter: 90 days (mid-September to mid-December, with
Double 11 and 12.12) at the rate of 3 million orders a year.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

import duckdb

from dagster_project.generator import generate_landing_zone
from dagster_project.ingest.feeds import FEEDS
from dagster_project.ingest.loader import ensure_raw_schema, ingest_days
from dagster_project.quality.suites import EXPECTATIONS_DIR, Suite, load_suite

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
WORK_DIR = BENCH_DIR / "cache" / "calibrate"
TZ = "Asia/Shanghai"
SEED = 42
DEFECT_RATE = 0.001  # the generator's few defective lines: the loader quarantines them (a WARN matter)
TRAILING_DAYS = 35  # a poisoned day has this many days of its feed's history before it
INGESTED_AT = datetime(2026, 1, 1, tzinfo=UTC)


# -- zones -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Zone:
    name: str
    description: str
    profile: str = "default"
    orders: int | None = None  # None: the profile's default
    customers: int | None = None
    days: int | None = None
    start: date | None = None
    source: str = "generator"  # or "public": converted by benchmarks/public_data.py

    def generator_args(self) -> dict:
        from dagster_project.generator.profiles import get_profile

        p = get_profile(self.profile)
        return {
            "seed": SEED,
            "start": (self.start or p.start).isoformat(),
            "days": self.days or p.days,
            "customers": self.customers or p.customers,
            "orders": self.orders or p.orders,
            "defect_rate": DEFECT_RATE,
            "format": "csv",
            "tz": TZ,
            **({"profile": self.profile} if self.profile != "default" else {}),
        }


ZONES: tuple[Zone, ...] = (
    Zone("orders_1k", "about 1,000 orders a year (3 a day), every feed", orders=1_000, customers=300),
    Zone("orders_30k", "about 30,000 orders a year (80 a day), every feed", orders=30_000, customers=3_000),
    Zone("orders_300k", "about 300,000 orders a year (800 a day), every feed", orders=300_000, customers=20_000),
    Zone(
        "orders_3m",
        "3,000,000 orders a year (8,200 a day), lighter: 90 days, 2025-09-15..2025-12-13 (Double 11, 12.12)",
        orders=740_000,
        customers=50_000,
        days=90,
        start=date(2025, 9, 15),
    ),
    Zone("b2b_small", "profile b2b-small: 8 months of a B2B seller, ~3 orders a working day, no weekend orders",
         profile="b2b-small"),
    Zone("retail", "profile retail: an online shop, busy weekdays, quiet weekend, 8% refunds", profile="retail"),
    Zone("platform_festivals", "profile platform-festivals: platform-heavy, 618 and Double 11 at 5-20x the orders at "
         "0.6x prices, deep Chinese New Year lull", profile="platform-festivals"),
    Zone("late_channel", "profile late-channel: a popular channel sells 14 days before the master lists it",
         profile="late-channel"),
    Zone("late_feed", "profile late-feed: the channel master and the surveys start 146 days after the other feeds",
         profile="late-feed"),
    Zone("orders_customers", "profile orders-customers: only customers and orders are delivered",
         profile="orders-customers"),
    Zone("leads_only", "profile leads-only: only the lead funnel is delivered", profile="leads-only"),
)
SMALL_ZONES: tuple[Zone, ...] = (
    Zone("small", "45 days, 2,500 orders, every feed (the test's zone)", orders=2_500, customers=300, days=45),
)


# -- poisoned cases ----------------------------------------------------------------------------------------
Row = dict[str, str]


@dataclass(frozen=True)
class Case:
    name: str
    description: str
    feed: str  # the feed whose day is changed
    expected: str  # ERROR (must block) or WARN (must not block)
    suites: tuple[str, ...]  # the suites validated on the poisoned day
    rows: Callable[[list[Row]], list[Row]] | None = None  # the day's records -> the records delivered
    extra: Callable[[list[Row]], list[Row]] | None = None  # records of a second file of the day
    empty: bool = False  # the day's folder delivered without any file
    needs: tuple[str, ...] = ()  # other feeds the case is defined by (unknown channels: the channel master)
    picks: tuple[str, ...] = ("median", "smallest", "largest")  # which days of the zone it is tried on
    minimum: int = 1  # the fewest records of the feed on a day that the gates are built to judge the case on
    why: str = ""  # why a smaller day cannot be told from an ordinary one


def _money(value: str, factor: Decimal) -> str:
    try:
        amount = (Decimal(value) * factor).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return value
    return str(max(amount, Decimal("0.01")))


def _set(column: str, fn: Callable[[str, int], str]) -> Callable[[list[Row]], list[Row]]:
    def apply(rows: list[Row]) -> list[Row]:
        return [{**r, column: fn(r[column], i)} if column in r else r for i, r in enumerate(rows)]

    return apply


def _first_customer(rows: list[Row]) -> list[Row]:
    one = next((r["customer_id"] for r in rows if r.get("customer_id")), "C0000001")
    return [{**r, "customer_id": one} if "customer_id" in r else r for r in rows]


def _every_second(rows: list[Row]) -> list[Row]:
    return rows[::2]


def _every_third(rows: list[Row]) -> list[Row]:
    return rows[::3]


def _new_ids(rows: list[Row]) -> list[Row]:
    return [{**r, "order_id": f"R{r['order_id']}"} for r in rows if r.get("order_id")]


ORDERS_SUITES = ("raw_orders",)
CASES: tuple[Case, ...] = (
    Case("amounts_x100", "every amount of the day x100 (yuan sent as fen)", "orders", "ERROR", ORDERS_SUITES,
         rows=_set("amount", lambda v, i: _money(v, Decimal(100)))),
    Case("amounts_div100", "every amount of the day /100", "orders", "ERROR", ORDERS_SUITES,
         rows=_set("amount", lambda v, i: _money(v, Decimal("0.01")))),
    Case("unknown_channels_third", "a third of the day's orders on 3 channel ids the master never listed", "orders",
         "ERROR", ORDERS_SUITES, rows=_set("channel_id", lambda v, i: f"ZZ{i % 9 // 3 + 1:02d}" if i % 3 == 0 else v),
         needs=("channels",), minimum=15,
         why="the gate judges from 5 orders on unknown channels: fewer are a new channel's first sales, "
             "which the contract allows (WARN)"),
    Case("master_half", "the day's channel master snapshot loses every second channel", "channels", "ERROR",
         ("raw_channels", "raw_orders"), rows=_every_second, minimum=4,
         why="the snapshot is judged from 2 lost channels"),
    Case("surveys_all_10", "every survey answer of the day has nps_score 10", "surveys", "ERROR", ("raw_surveys",),
         rows=_set("nps_score", lambda v, i: "10"), minimum=10,
         why="5 answers all 10 come on an ordinary day where half the customers are promoters (1 in 32); "
             "the spread is judged from 10 answers"),
    Case("orders_twice_new_ids", "the day's orders delivered again in a second file under new order ids", "orders",
         "ERROR", ORDERS_SUITES, rows=lambda rows: rows, extra=_new_ids, minimum=2,
         why="judged from 2 repeats: one order again is one customer ordering the same thing twice"),
    Case("single_customer", "every customer_id of the day's orders the same value", "orders", "ERROR", ORDERS_SUITES,
         rows=_first_customer, minimum=5,
         why="judged from 5 orders (Wilson bound): a B2B seller's few orders of a day often come from one buyer"),
    Case("empty_day", "no orders file on the day (expected WARN: published, flagged)", "orders", "WARN",
         ORDERS_SUITES, empty=True),
    Case("third_of_orders", "a third of the day's usual orders (expected WARN; on the median day only: a third "
         "of a festival day is a usual day)", "orders", "WARN", ORDERS_SUITES, rows=_every_third, picks=("median",),
         minimum=30, why="a third of a day of fewer than 30 orders is within the day-to-day noise of small counts"),
)


def _read_csv_lines(path: Path) -> tuple[list[str] | None, list[tuple[Row | None, str]]]:
    """Header and, per physical line, its record (None where the line does not parse to the header)."""
    lines = path.read_bytes().split(b"\n")
    if not lines or not lines[0]:
        return None, []
    try:
        header = next(csv.reader([lines[0].decode("utf-8")]))
    except (UnicodeDecodeError, csv.Error, StopIteration):
        return None, []
    out: list[tuple[Row | None, str]] = []
    for raw in lines[1:]:
        try:
            text = raw.decode("utf-8")
            fields = next(csv.reader([text])) if text else []
        except (UnicodeDecodeError, csv.Error, StopIteration):
            out.append((None, raw.decode("utf-8", "surrogateescape")))
            continue
        row = dict(zip(header, fields, strict=True)) if len(fields) == len(header) else None
        out.append((row, text))
    return header, out


def _csv_text(header: list[str], rows: list[Row]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for r in rows:
        writer.writerow([r.get(c, "") for c in header])
    return buf.getvalue()


def poison_day(case: Case, landing: Path, overlay: Path, day: date) -> None:
    """Write the poisoned copy of the case's feed and day under `overlay` (same relative paths)."""
    src = landing / case.feed / day.isoformat()
    dst = overlay / case.feed / day.isoformat()
    shutil.rmtree(dst, ignore_errors=True)
    dst.mkdir(parents=True)
    if case.empty:
        return
    for path in sorted(p for p in src.iterdir() if p.is_file()) if src.is_dir() else []:
        header, lines = _read_csv_lines(path) if path.suffix == ".csv" else (None, [])
        if header is None or case.rows is None:
            shutil.copy2(path, dst / path.name)  # not a CSV we can read (a corrupt file): delivered as it is
            continue
        records = [r for r, _ in lines if r is not None]
        text = _csv_text(header, case.rows(records))
        # lines that do not parse (the generator's malformed or cut lines) are delivered unchanged
        text += "".join(raw + "\n" for r, raw in lines if r is None and raw)
        (dst / path.name).write_text(text, encoding="utf-8", errors="surrogateescape")
        if case.extra is not None and records:  # the file's records again, as a second file of the day
            (dst / f"{path.stem}_redelivered.csv").write_text(_csv_text(header, case.extra(records)), encoding="utf-8")


# -- loading and validating ------------------------------------------------------------------------------
def raw_suites(directory: Path) -> list[Suite]:
    """Every raw-feed suite of `directory`, read now (not the process's cached suites)."""
    return [s for s in (load_suite(p) for p in sorted(directory.glob("raw_*.yml"))) if s.asset_label.startswith("raw/")]


def zone_days(landing: Path) -> list[date]:
    found = set()
    for feed in FEEDS:
        folder = landing / feed
        if folder.is_dir():
            for d in folder.iterdir():
                try:
                    found.add(date.fromisoformat(d.name))
                except ValueError:
                    continue
    if not found:
        return []
    first, last = min(found), max(found)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def load_zone(landing: Path, warehouse: Path, days: list[date]) -> duckdb.DuckDBPyConnection:
    warehouse.unlink(missing_ok=True)
    con = duckdb.connect(str(warehouse))
    con.execute(f"SET TimeZone = '{TZ}'")
    ensure_raw_schema(con)
    for feed in FEEDS:  # every feed, as the pipeline does: a feed never delivered has empty days
        ingest_days(con, landing, feed, days, INGESTED_AT)
    return con


def validate(con, suites: list[Suite], days: list[date]) -> dict[tuple[str, str], dict]:
    """(suite, check) -> {"error_days": [...], "warn_days": [...], "blocking": bool, "summary": ...}."""
    from dagster_project.quality.validation import check_outcomes, validate_suite

    found: dict[tuple[str, str], dict] = {}
    for suite in suites:
        for outcome in check_outcomes(suite, validate_suite(con, suite, days), days):
            err, warn = set(), set()
            for o in outcome.failed:
                hit = {d for d in o.unexpected_by_day if len(d) == 10} or {"whole table"}
                (err if o.severity == "ERROR" else warn).update(hit)
            found[(suite.name, outcome.check)] = {
                "asset": outcome.asset,
                "blocking": outcome.blocking,
                "error_days": sorted(err),
                "warn_days": sorted(warn - err),
                "summary": outcome.summary if not outcome.passed else "",
            }
    return found


def _counts(con, feed: str, days: list[date]) -> dict[date, int]:
    rows = con.execute(
        f"SELECT _partition_date, count(*) FROM raw.{feed} WHERE _partition_date BETWEEN ? AND ? GROUP BY ALL",
        [days[0], days[-1]],
    ).fetchall()
    return {d: n for d, n in rows}


def pick_days(counts: dict[date, int], days: list[date], blocked: set[str], per_case: int,
              picks: tuple[str, ...] = ("median", "smallest", "largest"), since: date | None = None) -> list[date]:
    """The median, smallest and largest day of the feed with a full trailing history (from `since`, the
    first day of the feeds the case needs, on) and no clean block."""
    with_rows = sorted(d for d, n in counts.items() if n > 0)
    if not with_rows:
        return []
    start = max(with_rows[0], since or with_rows[0]) + timedelta(days=TRAILING_DAYS)
    eligible = [d for d in days if d >= start and counts.get(d, 0) > 0 and d.isoformat() not in blocked]
    if not eligible:
        return []
    by_size = sorted(eligible, key=lambda d: (counts[d], d))
    chosen = {"median": by_size[len(by_size) // 2], "smallest": by_size[0], "largest": by_size[-1]}
    return list(dict.fromkeys(chosen[p] for p in picks[:per_case]))


def run_cases(con, landing: Path, overlay: Path, suites: dict[str, Suite], days: list[date],
              clean: dict[tuple[str, str], dict], per_case: int, zone: str,
              cases: tuple[Case, ...] = CASES) -> list[dict]:
    results = []
    counts = {feed: _counts(con, feed, days) for feed in ("orders", "channels", "surveys")}
    for case in cases:
        if not counts[case.feed] or not any(counts[case.feed].values()):
            continue  # the zone does not deliver the feed: the case does not apply
        if any(not any(counts[f].values()) for f in case.needs):
            continue  # nor without the feed that defines it (no channel master: no channel is unknown)
        since = max((min(d for d, n in counts[f].items() if n) for f in case.needs), default=None)
        blocked = {d for (s, _c), r in clean.items() if s in case.suites for d in r["error_days"]}
        # the channel cases are judged on ordinary order days (the snapshot is the same size every day)
        counted = counts["orders"] if case.feed == "channels" and any(counts["orders"].values()) else counts[case.feed]
        for day in pick_days(counted, days, blocked, per_case, case.picks, since):
            if counts[case.feed].get(day, 0) == 0:
                continue
            poison_day(case, landing, overlay, day)
            ingest_days(con, overlay, case.feed, [day], INGESTED_AT)
            try:
                outcome = validate(con, [suites[s] for s in case.suites if s in suites], [day])
            finally:
                ingest_days(con, landing, case.feed, [day], INGESTED_AT)  # the clean day back
            errors = sorted(f"{s}.{c}" for (s, c), r in outcome.items() if r["error_days"])
            warns = sorted(f"{s}.{c}" for (s, c), r in outcome.items() if r["warn_days"])
            records = counts[case.feed].get(day, 0)
            if case.expected == "ERROR":
                verdict = "caught" if errors else ("below_minimum" if records < case.minimum else "missed")
            else:
                verdict = "blocks" if errors else ("warn" if warns else
                                                   ("below_minimum" if records < case.minimum else "passed"))
            results.append({
                "zone": zone,
                "case": case.name,
                "expected": case.expected,
                "day": day.isoformat(),
                "evidence": {"orders": counts["orders"].get(day, 0), case.feed: counts[case.feed].get(day, 0)},
                "verdict": verdict,
                "ok": verdict in ("caught", "warn", "below_minimum"),
                "minimum": case.minimum,
                "error_checks": errors,
                "warn_checks": warns,
                "summaries": [r["summary"] for r in outcome.values() if r["error_days"]][:3],
            })
    return results


# -- one zone --------------------------------------------------------------------------------------------
@dataclass
class ZoneResult:
    name: str
    description: str
    source: str
    profile: str
    days: int
    first_day: str
    last_day: str
    rows_loaded: dict[str, int]
    orders_per_day: dict[str, float]
    blocking_false_alarm_days: int
    checks: list[dict]
    seconds: dict[str, float] = field(default_factory=dict)
    note: str = ""


def ensure_zone(zone: Zone, landing: Path) -> float:
    """Generate the zone's landing files unless they are there for the same arguments; seconds spent."""
    truth = landing / "_ground_truth.json"
    args = zone.generator_args()
    if truth.exists() and json.loads(truth.read_text(encoding="utf-8")).get("generator") == args:
        return 0.0
    t = time.perf_counter()
    shutil.rmtree(landing, ignore_errors=True)
    generate_landing_zone(
        landing, seed=SEED, start=date.fromisoformat(args["start"]), days=args["days"],
        customers=args["customers"], orders=args["orders"], defect_rate=DEFECT_RATE, file_format="csv",
        tz=TZ, progress=False, profile=zone.profile,
    )
    return time.perf_counter() - t


def calibrate_zone(zone: Zone, landing: Path, work: Path, suites: list[Suite], per_case: int,
                   log: Callable[[str], None]) -> tuple[ZoneResult, list[dict]]:
    seconds: dict[str, float] = {}
    if zone.source == "generator":
        seconds["generate"] = round(ensure_zone(zone, landing), 1)
    days = zone_days(landing)
    t = time.perf_counter()
    con = load_zone(landing, work / f"{zone.name}.duckdb", days)
    seconds["load"] = round(time.perf_counter() - t, 1)
    try:
        t = time.perf_counter()
        clean = validate(con, suites, days)
        seconds["validate"] = round(time.perf_counter() - t, 1)
        rows = {feed: con.execute(f"SELECT count(*) FROM raw.{feed}").fetchone()[0] for feed in FEEDS}
        per_day = [n for n in _counts(con, "orders", days).values()]
        per_day += [0] * (len(days) - len(per_day))
        checks = [
            {"suite": s, "check": c, "asset": r["asset"], "blocking": r["blocking"],
             "error_days": len(r["error_days"]), "warn_days": len(r["warn_days"]),
             "first_error_days": r["error_days"][:5], "summary": r["summary"]}
            for (s, c), r in sorted(clean.items())
        ]
        any_error = {d for r in clean.values() for d in r["error_days"]}
        log(f"{zone.name}: {len(days)} days, {rows['orders']:,} order records, "
            f"{len(any_error)} day(s) with a blocking result; poisoning")
        t = time.perf_counter()
        by_name = {s.name: s for s in suites}
        cases = run_cases(con, landing, work / f"{zone.name}_poisoned", by_name, days, clean, per_case, zone.name)
        seconds["poisoned"] = round(time.perf_counter() - t, 1)
    finally:
        con.close()
    result = ZoneResult(
        name=zone.name, description=zone.description, source=zone.source, profile=zone.profile,
        days=len(days), first_day=days[0].isoformat(), last_day=days[-1].isoformat(), rows_loaded=rows,
        orders_per_day={"median": statistics.median(per_day), "min": min(per_day), "max": max(per_day)},
        blocking_false_alarm_days=len(any_error), checks=checks, seconds=seconds,
    )
    return result, cases


# -- report ----------------------------------------------------------------------------------------------
def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
        return done.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def _records(c: dict) -> int:
    feed = next((k for k in c["evidence"] if k != "orders"), "orders")
    return c["evidence"][feed]


def evidence(cases: list[dict]) -> dict[str, dict]:
    """Per ERROR case: the fewest records of a day it was caught on, the most of a day it was missed on."""
    out: dict[str, dict] = {}
    for c in cases:
        if c["expected"] != "ERROR":
            continue
        e = out.setdefault(c["case"], {"feed": next((k for k in c["evidence"] if k != "orders"), "orders"),
                                       "smallest_caught": None, "largest_missed": None})
        n = _records(c)
        if c["verdict"] == "below_minimum":
            e["minimum"] = c.get("minimum", 1)
            continue
        key, better = ("smallest_caught", min) if c["verdict"] == "caught" else ("largest_missed", max)
        e["minimum"] = c.get("minimum", 1)
        e[key] = n if e[key] is None else better(e[key], n)
    return out


def summarize(zones: list[ZoneResult], cases: list[dict], skipped: list[dict]) -> dict:
    errors = [c for c in cases if c["expected"] == "ERROR"]
    warns = [c for c in cases if c["expected"] == "WARN"]
    return {
        "clean_zones": len(zones),
        "blocking_false_alarm_days": sum(z.blocking_false_alarm_days for z in zones),
        "zones_with_blocking_false_alarms": [z.name for z in zones if z.blocking_false_alarm_days],
        "poisoned_days": len(errors),
        "caught": sum(c["verdict"] == "caught" for c in errors),
        "missed": sum(c["verdict"] == "missed" for c in errors),
        "below_minimum": sum(c["verdict"] == "below_minimum" for c in errors),
        "expected_warn_days": len(warns),
        "expected_warn_blocked": sum(c["verdict"] == "blocks" for c in warns),
        "zones_skipped": skipped,
        "evidence": evidence(cases),
    }


def _evidence(c: dict) -> str:
    """The day's records of the poisoned feed, in words (`3 surveys`, `55 orders`)."""
    feed = next((k for k in c["evidence"] if k != "orders"), "orders")
    return f"{c['evidence'][feed]:,} {feed}"


def _cell(items: list[dict]) -> str:
    if not items:
        return "-"
    if items[0]["expected"] == "ERROR":
        judged = [c for c in items if c["verdict"] != "below_minimum"]
        caught = sum(c["verdict"] == "caught" for c in judged)
        text = f"caught {caught}/{len(judged)}" if judged else "no day at the minimum"
        missed = [c for c in judged if not c["ok"]]
        if missed:
            text += " (missed: " + ", ".join(_evidence(c) for c in missed) + ")"
        small = [c for c in items if c["verdict"] == "below_minimum"]
        if small:
            text += "; below the minimum evidence: " + ", ".join(_evidence(c) for c in small)
        return text
    blocked = [c for c in items if c["verdict"] == "blocks"]
    small = [c for c in items if c["verdict"] == "below_minimum"]
    text = f"WARN {sum(c['verdict'] == 'warn' for c in items)}/{len(items) - len(small)}"
    if small:
        text += "; below the minimum evidence, unflagged: " + ", ".join(_evidence(c) for c in small)
    if blocked:
        text += f", BLOCKS {len(blocked)}"
    passed = sum(c["verdict"] == "passed" for c in items)
    return text + (f", unflagged {passed}" if passed else "")


def write_markdown(report: dict, path: Path) -> None:
    s = report["summary"]
    zones = report["zones"]
    out = [
        "# Calibration of the raw-feed gates",
        "",
        f"Written by `{report['command']}` on {report['generated_at']} (commit `{report['commit'] or '?'}`, "
        f"{report['seconds']:.0f} s). The gates are the suites `expectations/raw_*.yml` of that commit, "
        "read at run time; see benchmarks/calibrate.py for the method.",
        "",
        f"**{s['blocking_false_alarm_days']} blocking false alarm day(s)** over {s['clean_zones']} clean zones; "
        f"**{s['caught']} of {s['poisoned_days'] - s.get('below_minimum', 0)} poisoned days at or above the "
        f"minimum evidence caught** ({s['missed']} missed; {s.get('below_minimum', 0)} more day(s) below the "
        "case's minimum evidence, listed with the reason below); "
        f"expected-WARN days that blocked: {s['expected_warn_blocked']} of {s['expected_warn_days']}.",
        "",
        "## Clean zones",
        "",
        "| zone | source | days | order records | orders/day (median, min, max) | blocking false-alarm days "
        "| WARN days (checks) |",
        "|---|---|---|---|---|---|---|",
    ]
    for z in zones:
        warn = sum(c["warn_days"] for c in z["checks"])
        opd = z["orders_per_day"]
        out.append(
            f"| {z['name']} | {z['source'] if z['source'] != 'generator' else 'generator ' + z['profile']} | "
            f"{z['days']} ({z['first_day']}..{z['last_day']}) | {z['rows_loaded'].get('orders', 0):,} | "
            f"{opd['median']:g}, {opd['min']:g}, {opd['max']:g} | {z['blocking_false_alarm_days']} | {warn} |"
        )
    for sk in s["zones_skipped"]:
        out.append(f"| {sk['name']} | not run | - | - | - | - | {sk['reason']} |")
    out += ["", "Zones:", ""] + [f"- **{z['name']}**: {z['description']}" for z in zones]
    alarms = [(z["name"], c) for z in zones for c in z["checks"] if c["error_days"]]
    out += ["", "### Blocking false alarms per zone and check", ""]
    if alarms:
        out += ["| zone | check | days | first days | first sentence |", "|---|---|---|---|---|"]
        for name, c in alarms:
            first = ", ".join(c["first_error_days"])
            out.append(f"| {name} | {c['suite']}.{c['check']} | {c['error_days']} | {first} | "
                       f"{c['summary'][:220].replace('|', '/')} |")
    else:
        out.append("None: no check of any raw suite blocked on any day of a clean zone.")
    warn_rows = [(z["name"], c) for z in zones for c in z["checks"] if c["warn_days"]]
    if warn_rows:
        out += ["", "WARN days per zone and check (published, flagged):", "",
                "| zone | check | WARN days |", "|---|---|---|"]
        out += [f"| {n} | {c['suite']}.{c['check']} | {c['warn_days']} |" for n, c in warn_rows]
    case_names = list(dict.fromkeys(c["case"] for c in report["poisoned"]))
    zone_names = [z["name"] for z in zones]
    out += ["", "## Poisoned days", "",
            "Each case on up to three days of each zone where it applies (median, smallest and largest day of "
            "the feed with 35 days of history before it, and of the feeds that define the case: unknown "
            "channels need a channel master); `-`: the zone does not deliver the feed, or the case does not "
            "apply.", "",
            "| case | expected | " + " | ".join(zone_names) + " |",
            "|---|---|" + "---|" * len(zone_names)]
    by = {}
    for c in report["poisoned"]:
        by.setdefault((c["case"], c["zone"]), []).append(c)
    descriptions = {c.name: c.description for c in CASES}
    for case in case_names:
        items = [c for c in report["poisoned"] if c["case"] == case]
        cells = " | ".join(_cell(by.get((case, z), [])) for z in zone_names)
        out.append(f"| {case} | {items[0]['expected']} | {cells} |")
    out += ["", "Cases:", ""] + [f"- **{n}**: {descriptions.get(n, '')}" for n in case_names]
    out += ["", "Evidence: per case, the minimum evidence the gates are built to judge it from (and why a "
            "smaller day cannot be told), the fewest records of its feed on a day it was caught and the most on a "
            "day at or above the minimum it was missed (over every zone).", "",
            "| case | feed | minimum evidence | why | smallest day caught | largest day missed |",
            "|---|---|---|---|---|---|"]
    whys = {c.name: c.why or "-" for c in CASES}
    for name, e in s["evidence"].items():
        out.append(f"| {name} | {e['feed']} | {e.get('minimum', 1)} | {whys.get(name, '-')} | "
                   f"{e['smallest_caught'] if e['smallest_caught'] is not None else '-'} | "
                   f"{e['largest_missed'] if e['largest_missed'] is not None else '-'} |")
    missed = [c for c in report["poisoned"] if not c["ok"]]
    out += ["", "### Not as expected", ""]
    if missed:
        out += ["| zone | case | day | records of the day | verdict | checks that blocked | checks that warned |",
                "|---|---|---|---|---|---|---|"]
        for c in missed:
            out.append(f"| {c['zone']} | {c['case']} | {c['day']} | {_evidence(c)} | {c['verdict']} | "
                       f"{', '.join(c['error_checks']) or '-'} | {', '.join(c['warn_checks']) or '-'} |")
    else:
        out.append("None: every poisoned day blocked, every expected-WARN day warned without blocking.")
    caught_by = {}
    for c in report["poisoned"]:
        if c["verdict"] == "caught":
            for chk in c["error_checks"]:
                caught_by.setdefault(c["case"], set()).add(chk)
    if caught_by:
        out += ["", "Checks that caught each case:", ""]
        out += [f"- {k}: {', '.join(sorted(v))}" for k, v in caught_by.items()]
    if report.get("public_data"):
        out += ["", "## Public data", ""]
        for p in report["public_data"]:
            out.append(f"- **{p['name']}**: {p.get('description', '')} {p.get('status', '')}")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def expectation_hashes(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:12] for p in sorted(directory.glob("raw_*.yml"))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.calibrate", description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="a tiny zone only (the test's mode)")
    parser.add_argument("--zones", help="comma-separated zone names (default: all of the mode)")
    parser.add_argument("--work", type=Path, default=WORK_DIR, help="landing zones and DuckDB files (not committed)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="where calibration.json/.md are written")
    parser.add_argument("--days-per-case", type=int, default=3, help="poisoned days per case and zone (1-3)")
    parser.add_argument("--expectations", type=Path, default=EXPECTATIONS_DIR, help="the suites to measure")
    parser.add_argument("--public", type=Path, default=None,
                        help="public data landing zones (default: benchmarks/public_data.py's PUBLIC_DIR)")
    parser.add_argument("--no-public", action="store_true", help="skip the public data sets")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)

    zones = list(SMALL_ZONES if args.small else ZONES)
    if args.zones:
        wanted = set(args.zones.split(","))
        zones = [z for z in zones if z.name in wanted]
    suites = raw_suites(args.expectations)
    args.work.mkdir(parents=True, exist_ok=True)
    results: list[ZoneResult] = []
    cases: list[dict] = []
    skipped: list[dict] = []
    public: list[dict] = []
    targets = [(z, args.work / f"landing_{z.name}") for z in zones]
    if not args.small and not args.no_public:
        from benchmarks import public_data

        for spec in public_data.DATASETS:
            if args.zones and spec.name not in args.zones.split(","):
                continue
            landing = public_data.landing_dir(spec, args.public)
            status = public_data.ensure_landing(spec, landing)
            public.append({"name": spec.name, "description": spec.description, "status": status["message"],
                           "available": status["available"]})
            if status["available"]:
                targets.append((Zone(spec.name, spec.description, profile="-", source="public"), landing))
            else:
                skipped.append({"name": spec.name, "reason": status["message"]})
    for zone, landing in targets:
        log(f"zone {zone.name}: {zone.description}")
        result, zone_cases = calibrate_zone(zone, landing, args.work, suites, args.days_per_case, log)
        results.append(result)
        cases += zone_cases
        caught = sum(c["verdict"] == "caught" for c in zone_cases)
        log(f"{zone.name}: {result.blocking_false_alarm_days} blocking false-alarm day(s), "
            f"{caught}/{sum(c['expected'] == 'ERROR' for c in zone_cases)} poisoned days caught {result.seconds}")
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "make calibrate" if not (args.small or args.zones) else "python -m benchmarks.calibrate "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "commit": (_git("rev-parse", "--short", "HEAD") or "")
        + (" + uncommitted suites" if _git("status", "--porcelain", "--", str(args.expectations)) else ""),
        "expectations": expectation_hashes(args.expectations),
        "mode": "small" if args.small else "full",
        "seconds": round(time.perf_counter() - started, 1),
        "summary": summarize(results, cases, skipped),
        "zones": [asdict(z) for z in results],
        "poisoned": cases,
        "public_data": public,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    (args.out / "calibration.json").write_text(text, encoding="utf-8")
    write_markdown(report, args.out / "calibration.md")
    s = report["summary"]
    log(f"wrote {args.out / 'calibration.md'}: {s['blocking_false_alarm_days']} blocking false-alarm day(s), "
        f"{s['caught']}/{s['poisoned_days'] - s['below_minimum']} poisoned days at or above the minimum evidence "
        f"caught ({s['below_minimum']} below it), {s['expected_warn_blocked']} expected-WARN day(s) blocked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
