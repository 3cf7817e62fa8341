"""The benchmark harness (`make bench`): the pipeline against the raw-DuckDB floor and a pandas peer.

    python -m benchmarks.run [--scales 1,3,10] [--reps SPEC] [--only full,daily,floor,peer]
                             [--keep-data] [--check] [--days 730] [--start 2024-01-01]

For each scale point (millions of orders over two years) it generates a landing zone once
(`salesmp generate`, cached in benchmarks/cache/landing_<N>m), then measures on the same files:

- full:  `salesmp run --from <first day> --to <second-to-last day>` from an empty warehouse, serving
         database and DAGSTER_HOME (the whole graph: ingest, dbt, checks, publish);
- daily: `salesmp run --from <last day> --to <last day>` on top of the full build (its state is
         restored from a snapshot before each repetition, outside the timed region);
- floor: benchmarks/floor.sql over the landing files up to the second-to-last day;
- peer:  benchmarks/peer.py (pandas) over the same files and days.

Each is a subprocess: wall time, CPU time (user + sys of the whole process tree, from
getrusage(RUSAGE_CHILDREN)) and peak memory (the sum of RSS over the process tree, sampled every
0.2 s). The median of the repetitions is reported. The floor's and the peer's marts are compared
with the marts the full build published (benchmarks/equality.py) at every scale point, and at the
smallest one also with the marts of the daily run (floor and peer as of the last day); a
difference makes the command fail, since the ratios would mean nothing.

Results: benchmarks/results/latest.json and latest.md (not with --check, which runs each step once
at the given scale points, checks equality after the full and the daily run, and writes nothing).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from pathlib import Path

import psutil

from benchmarks.equality import MartsDiffer, assert_marts_equal

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
CACHE_DIR = BENCH_DIR / "cache"
RESULTS_DIR = BENCH_DIR / "results"
BIN = Path(sys.executable).parent
SALESMP = str(BIN / "salesmp")

STEPS = ("floor", "peer", "full", "daily")
# The landing zone of every scale point: clean CSV (the floor and the peer do not validate, so no
# injected defects), two years, one customer per 15 orders, the generator's other feeds scaled by it.
GENERATOR = {"seed": 42, "format": "csv", "defect_rate": 0.0, "orders_per_customer": 15}
DEFAULT_SCALES = "1,3,10"
# Default repetitions, chosen for the 45-minute budget of `make bench` on the 2-core machine: three
# of every step (the median is reported) except the full build (once per scale point: 2 to 8 minutes
# each) and the pandas peer at 10M (once: about 4 minutes). benchmarks/README.md ("How long it
# takes") has the arithmetic.
DEFAULT_REPS = "3,full=1,peer@10=1"
SAMPLE_SECONDS = 0.2
GIB = 1024**3

TARGETS = {
    "full_over_floor": ("<=", 1.5, "full build at 10M orders within 1.5x the raw-DuckDB floor (wall time)"),
    "daily_over_full": ("<=", 0.10, "daily run at 10M orders within 10% of the full build (wall time)"),
    "daily_10m_over_daily_1m": ("<=", 1.3, "daily run nearly flat in the history: daily(10M) / daily(1M)"),
    "peak_rss_gib_10m": ("<", 2.0, "peak memory of the pipeline (process tree RSS) under 2 GiB at 10M"),
    "peer_over_full": (">=", 2.0, "at least 2x faster than the pandas peer at 10M, with lower peak memory"),
    "definitions_load_s": ("<", 3.0, "loading the Dagster definitions under 3 seconds"),
}


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


# -- scale points and their landing zones ---------------------------------------------------------------
@dataclass(frozen=True)
class ScalePoint:
    millions: float
    days: int = 730
    start: date = date(2024, 1, 1)

    @property
    def label(self) -> str:
        return f"{self.millions:g}m"

    @property
    def orders(self) -> int:
        return round(self.millions * 1_000_000)

    @property
    def customers(self) -> int:
        return max(1, round(self.orders / GENERATOR["orders_per_customer"]))

    @property
    def first_day(self) -> date:
        return self.start

    @property
    def last_day(self) -> date:
        return self.start + timedelta(days=self.days - 1)

    @property
    def full_to(self) -> date:
        """The full build covers every day but the last; the daily run adds the last."""
        return self.last_day - timedelta(days=1)

    def generator_args(self) -> dict:
        """The arguments as _ground_truth.json records them (the cache key)."""
        return {
            "seed": GENERATOR["seed"],
            "start": self.start.isoformat(),
            "days": self.days,
            "customers": self.customers,
            "orders": self.orders,
            "defect_rate": GENERATOR["defect_rate"],
            "format": GENERATOR["format"],
            "tz": os.environ.get("SALESMP_TZ") or "Asia/Shanghai",
        }


def ensure_landing(point: ScalePoint, landing: Path) -> dict:
    """Generate the landing zone unless `landing` already holds one with the same arguments.

    Returns {"cached": bool, "seconds": generation time (of this run, or as recorded when cached)}.
    """
    truth_file, timing_file = landing / "_ground_truth.json", landing.parent / f"generation_{landing.name}.json"
    if (
        truth_file.exists()
        and timing_file.exists()
        and json.loads(truth_file.read_text(encoding="utf-8")).get("generator") == point.generator_args()
    ):
        return {"cached": True, **json.loads(timing_file.read_text(encoding="utf-8"))}
    args = point.generator_args()
    cmd = [
        SALESMP, "generate", "--out", str(landing), "--seed", str(args["seed"]), "--start", args["start"],
        "--days", str(args["days"]), "--customers", str(args["customers"]), "--orders", str(args["orders"]),
        "--defect-rate", str(args["defect_rate"]), "--format", args["format"], "--quiet",
    ]
    _remove(landing)  # ours (the bench's cache): stale, for other arguments, or left by an interrupted run
    landing.parent.mkdir(parents=True, exist_ok=True)
    m = measure(cmd, dict(os.environ), landing.parent / f"generate_{landing.name}.log")
    record = {"seconds": m.wall_s, "cpu_s": m.cpu_s, "peak_rss_bytes": m.peak_rss_bytes,
              "generated_at": datetime.now(UTC).isoformat(timespec="seconds")}
    timing_file.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return {"cached": False, **record}


# -- measuring one subprocess ----------------------------------------------------------------------------
@dataclass
class Measurement:
    wall_s: float
    cpu_s: float
    peak_rss_bytes: int


class StepFailed(RuntimeError):
    pass


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    try:
        members = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for p in members:
        with contextlib.suppress(psutil.Error):  # a process that ended between the two calls
            total += p.memory_info().rss
    return total


def measure(cmd: list[str], env: dict[str, str], log_file: Path) -> Measurement:
    """Run cmd to completion; its output goes to log_file. Raise StepFailed when it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = 0
    with open(log_file, "w", encoding="utf-8") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT)
        watched = psutil.Process(proc.pid)
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _tree_rss(watched))
                done.wait(SAMPLE_SECONDS)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        returncode = proc.wait()
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if returncode != 0:
        tail = log_file.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-15:]
        raise StepFailed(f"{' '.join(cmd[:2])} exited {returncode} (log {log_file}):\n  " + "\n  ".join(tail))
    return Measurement(round(wall, 3), round(cpu, 3), peak)


# -- one scale point's steps -----------------------------------------------------------------------------
@dataclass
class Bench:
    """The files of one scale point: its landing zone and a run folder for everything measured."""

    point: ScalePoint
    landing: Path
    run_dir: Path
    results: dict = field(default_factory=dict)

    @property
    def state_paths(self) -> dict[str, Path]:
        return {
            "SALESMP_WAREHOUSE": self.run_dir / "warehouse.duckdb",
            "SALESMP_SERVING": self.run_dir / "serving.duckdb",
            "SALESMP_SITE": self.run_dir / "site",
            "DAGSTER_HOME": self.run_dir / "dagster_home",
        }

    @property
    def serving(self) -> Path:
        return self.state_paths["SALESMP_SERVING"]

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({k: str(v) for k, v in self.state_paths.items()})
        env["SALESMP_LANDING"] = str(self.landing)
        env["PATH"] = str(BIN) + os.pathsep + env.get("PATH", "")
        return env

    def _clear_state(self) -> None:
        for path in self.state_paths.values():
            _remove(path)
            _remove(path.with_name(path.name + ".wal"))

    def snapshot(self) -> None:
        """Keep the state after a full build (taken outside any timed region)."""
        snap = self.run_dir / "after_full"
        _remove(snap)
        snap.mkdir(parents=True)
        for path in self.state_paths.values():
            for p in (path, path.with_name(path.name + ".wal")):
                if p.exists():
                    _copy(p, snap / p.name)

    def restore(self) -> None:
        self._clear_state()
        snap = self.run_dir / "after_full"
        for item in snap.iterdir():
            _copy(item, self.run_dir / item.name)

    def floor(self, as_of: date, out_name: str = "floor.duckdb") -> Measurement:
        out = self.run_dir / out_name
        cmd = [sys.executable, "-m", "benchmarks.floor", "--landing", str(self.landing),
               "--as-of", as_of.isoformat(), "--out", str(out)]
        return measure(cmd, self.env(), self.run_dir / f"{Path(out_name).stem}.log")

    def peer(self, as_of: date, out_name: str = "peer") -> Measurement:
        out = self.run_dir / out_name
        _remove(out)
        cmd = [sys.executable, "-m", "benchmarks.peer", "--landing", str(self.landing),
               "--as-of", as_of.isoformat(), "--out", str(out)]
        return measure(cmd, self.env(), self.run_dir / f"{out_name}.log")

    def full(self) -> Measurement:
        self._clear_state()
        cmd = [SALESMP, "run", "--from", self.point.first_day.isoformat(), "--to", self.point.full_to.isoformat()]
        return measure(cmd, self.env(), self.run_dir / "full.log")

    def daily(self) -> Measurement:
        day = self.point.last_day.isoformat()
        return measure([SALESMP, "run", "--from", day, "--to", day], self.env(), self.run_dir / "daily.log")

    def check_equal(self, candidates: dict[str, Path], after: str) -> dict[str, str]:
        """Each candidate's marts against the serving database; raise MartsDiffer on a difference."""
        outcome = {}
        for label, path in candidates.items():
            results = assert_marts_equal(self.serving, path, f"{label} (vs the {after} build)")
            rows = ", ".join(f"{r.mart} {r.rows_reference:,}" for r in results)
            outcome[f"{label}_vs_{after}"] = f"equal ({rows} rows)"
            log(f"{self.point.label} {label} equals the {after} build's published marts ({rows} rows)")
        return outcome


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def _copy(src: Path, dst: Path) -> None:
    if src.is_dir():
        shutil.copytree(src, dst)
    else:
        shutil.copy2(src, dst)


# -- repetitions ------------------------------------------------------------------------------------------
def parse_reps(spec: str) -> dict:
    """'3,full@10=1,peer=2' -> {'default': 3, 'full@10': 1, 'peer': 2}."""
    plan: dict[str, int] = {"default": 3}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        key, _, value = part.rpartition("=")
        if not key:
            plan["default"] = int(value)
            continue
        step = key.split("@")[0]
        if step not in STEPS or int(value) < 1:
            raise ValueError(f"--reps: {part!r} is not <step>[@<scale>]=<n> with a step of {', '.join(STEPS)}")
        plan[key] = int(value)
    return plan


def reps_for(plan: dict, step: str, point: ScalePoint) -> int:
    return plan.get(f"{step}@{point.millions:g}", plan.get(step, plan["default"]))


def summarize(runs: list[Measurement]) -> dict:
    return {
        "reps": len(runs),
        "runs": [asdict(r) for r in runs],
        "median": {
            "wall_s": round(statistics.median(r.wall_s for r in runs), 3),
            "cpu_s": round(statistics.median(r.cpu_s for r in runs), 3),
            "peak_rss_bytes": int(statistics.median(r.peak_rss_bytes for r in runs)),
        },
        "max_peak_rss_bytes": max(r.peak_rss_bytes for r in runs),
    }


def _repeat(bench: Bench, step: str, n: int, run_once) -> dict:
    runs = []
    for i in range(1, n + 1):
        log(f"{bench.point.label} {step} rep {i}/{n} ...")
        m = run_once()
        log(f"{bench.point.label} {step} rep {i}/{n}: wall {m.wall_s:.1f}s, cpu {m.cpu_s:.1f}s, "
            f"peak {m.peak_rss_bytes / GIB:.2f} GiB")
        runs.append(m)
    return summarize(runs)


def bench_scale(point: ScalePoint, steps: list[str], plan: dict, check_daily: bool, cache: Path) -> dict:
    """Every step at one scale point; returns its results (raises on a failed step or a difference)."""
    landing = cache / f"landing_{point.label}"
    log(f"{point.label}: landing zone {landing} ({point.orders:,} orders, {point.customers:,} customers, "
        f"{point.days} days) ...")
    generation = ensure_landing(point, landing)
    log(f"{point.label}: landing zone {'reused' if generation['cached'] else 'generated'} "
        f"(generation took {generation['seconds']:.1f}s)")
    bench = Bench(point, landing, cache / f"run_{point.label}")
    bench.run_dir.mkdir(parents=True, exist_ok=True)
    out: dict = {
        "orders": point.orders,
        "customers": point.customers,
        "days": {"first": point.first_day.isoformat(), "full_to": point.full_to.isoformat(),
                 "daily": point.last_day.isoformat()},
        "landing": str(landing),
        "landing_bytes": sum(p.stat().st_size for p in landing.rglob("*") if p.is_file()),
        "generation": generation,
        "steps": {},
        "equality": {},
    }
    D = point.full_to
    if "floor" in steps:
        out["steps"]["floor"] = _repeat(bench, "floor", reps_for(plan, "floor", point), lambda: bench.floor(D))
    if "peer" in steps:
        out["steps"]["peer"] = _repeat(bench, "peer", reps_for(plan, "peer", point), lambda: bench.peer(D))
    if "full" in steps or "daily" in steps:
        n_full = reps_for(plan, "full", point) if "full" in steps else 1
        out["steps"]["full"] = _repeat(bench, "full", n_full, bench.full)
        if "full" not in steps:
            out["steps"]["full"]["note"] = "run once to build the state the daily run starts from"
        candidates = {label: path for label, path in (("floor", bench.run_dir / "floor.duckdb"),
                                                      ("peer", bench.run_dir / "peer"))
                      if label in steps}
        out["equality"].update(bench.check_equal(candidates, "full"))
        if "daily" in steps:
            bench.snapshot()

            def daily_once() -> Measurement:
                bench.restore()
                return bench.daily()

            out["steps"]["daily"] = _repeat(bench, "daily", reps_for(plan, "daily", point), daily_once)
            if check_daily:
                last = point.last_day
                daily_candidates = {}
                if "floor" in steps:
                    bench.floor(last, "floor_daily.duckdb")
                    daily_candidates["floor"] = bench.run_dir / "floor_daily.duckdb"
                if "peer" in steps:
                    bench.peer(last, "peer_daily")
                    daily_candidates["peer"] = bench.run_dir / "peer_daily"
                out["equality"].update(bench.check_equal(daily_candidates, "daily"))
    return out


# -- results ------------------------------------------------------------------------------------------------
def definitions_load(reps: int = 3) -> dict:
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-c", "import dagster_project.definitions"]
    runs = []
    for i in range(1, reps + 1):
        m = measure(cmd, dict(os.environ), CACHE_DIR / "definitions_load.log")
        log(f"definitions load rep {i}/{reps}: {m.wall_s:.2f}s")
        runs.append(m)
    return summarize(runs)


def _versions() -> dict:
    out = {"python": platform.python_version()}
    for dist in ("duckdb", "dagster", "dagster-dbt", "dbt-core", "dbt-duckdb", "pandas", "pyarrow"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def _machine() -> dict:
    return {
        "cores_physical": psutil.cpu_count(logical=False),
        "cores_logical": psutil.cpu_count(logical=True),
        "memory_gib": round(psutil.virtual_memory().total / GIB, 1),
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def _median(scale: dict | None, step: str, what: str = "wall_s"):
    try:
        return scale["steps"][step]["median"][what]
    except (KeyError, TypeError):
        return None


def _div(a, b):
    return None if a is None or b in (None, 0) else round(a / b, 4)


def _peak_gib(scale: dict | None, *steps: str) -> float | None:
    peaks = [scale["steps"][s]["max_peak_rss_bytes"] for s in steps if scale and s in scale["steps"]]
    return round(max(peaks) / GIB, 3) if peaks else None


def headline(scales: dict, definitions: dict | None) -> dict:
    """The top-level keys. The ratios are at 10M orders when 10M was measured, else at the largest
    scale point measured (`headline_scale` names it; the targets say so)."""
    labels = sorted(scales, key=lambda k: float(k.rstrip("m")))
    top = "10m" if "10m" in scales else (labels[-1] if labels else None)
    at = scales.get(top)
    return {
        "headline_scale": top,
        "full_over_floor": _div(_median(at, "full"), _median(at, "floor")),
        "daily_over_full": _div(_median(at, "daily"), _median(at, "full")),
        "daily_10m_over_daily_1m": _div(_median(scales.get("10m"), "daily"), _median(scales.get("1m"), "daily")),
        "peak_rss_gib_10m": _peak_gib(scales.get("10m"), "full", "daily"),
        "peer_over_full": _div(_median(at, "peer"), _median(at, "full")),
        "definitions_load_s": definitions["median"]["wall_s"] if definitions else None,
        "pipeline_peak_rss_gib": _peak_gib(at, "full", "daily"),
        "peer_peak_rss_gib": _peak_gib(at, "peer"),
        "floor_peak_rss_gib": _peak_gib(at, "floor"),
    }


def judge_targets(head: dict) -> dict:
    """Each target: its value, whether it is met and, when not, by how much it is missed."""
    out = {}
    for key, (op, limit, text) in TARGETS.items():
        value = head.get(key)
        entry = {"target": f"{key} {op} {limit}", "meaning": text}
        if key == "peak_rss_gib_10m" and value is None:
            value = head.get("pipeline_peak_rss_gib")
        if head["headline_scale"] != "10m" and key not in ("definitions_load_s", "daily_10m_over_daily_1m"):
            entry["note"] = f"measured at {head['headline_scale']}, not at 10M"
        entry["value"] = value
        if value is None:
            entry.update(met=None, missed_by=None)
            out[key] = entry
            continue
        met = {"<=": value <= limit, "<": value < limit, ">=": value >= limit}[op]
        if met:
            missed = None
        elif op != ">=":
            missed = f"{value / limit:.2f}x the limit"
        else:
            missed = f"{limit / value:.1f}x short of {limit}" if value else f"0 against {limit}"
        if key == "peer_over_full":
            pipeline, peer = head.get("pipeline_peak_rss_gib"), head.get("peer_peak_rss_gib")
            lower = pipeline is not None and peer is not None and pipeline < peer
            entry.update(pipeline_peak_rss_gib=pipeline, peer_peak_rss_gib=peer, lower_peak_memory_than_peer=lower)
            if not lower:
                memory = f"peak memory {pipeline} GiB is not below the peer's {peer} GiB"
                missed = f"{missed}; {memory}" if missed else memory
            met = met and lower
        entry.update(met=met, missed_by=missed)
        out[key] = entry
    return out


def write_markdown(report: dict, path: Path) -> None:
    lines = [
        "# Benchmark results",
        "",
        f"Measured {report['finished_at']} on {report['machine']['cores_logical']} cores, "
        f"{report['machine']['memory_gib']} GiB ({report['machine']['platform']}); DuckDB memory_limit "
        f"{report['settings']['duckdb_memory_limit']}, threads {report['settings']['duckdb_threads']}. "
        f"Landing zones: {report['settings']['landing']}. Reps: `{report['reps_spec']}` (median shown).",
        "",
        "| scale | step | reps | wall s (median) | CPU s (median) | peak RSS GiB (max) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for label, scale in report["scales"].items():
        for step in ("generate", *STEPS):
            if step == "generate":
                g = scale["generation"]
                lines.append(f"| {label} | generate ({'cached' if g['cached'] else 'this run'}) | 1 | "
                             f"{g['seconds']:.1f} | {g.get('cpu_s', 0):.1f} | "
                             f"{g.get('peak_rss_bytes', 0) / GIB:.2f} |")
                continue
            s = scale["steps"].get(step)
            if s:
                lines.append(f"| {label} | {step} | {s['reps']} | {s['median']['wall_s']:.1f} | "
                             f"{s['median']['cpu_s']:.1f} | {s['max_peak_rss_bytes'] / GIB:.2f} |")
    lines += ["", "| target | value | met | missed by |", "|---|---:|---|---|"]
    for t in report["targets"].values():
        value = "n/a" if t["value"] is None else f"{t['value']:g}"
        met = {True: "yes", False: "**no**", None: "not measured"}[t["met"]]
        note = f" ({t['note']})" if t.get("note") else ""
        lines.append(f"| {t['meaning']}{note} | {value} | {met} | {t['missed_by'] or ''} |")
    lines += ["", "Equality of the floor's and the peer's marts with the pipeline's published marts:", ""]
    for label, scale in report["scales"].items():
        for check, outcome in scale["equality"].items():
            lines.append(f"- {label} {check}: {outcome}")
    lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


# -- command line -----------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default=DEFAULT_SCALES, help="millions of orders, comma separated")
    parser.add_argument("--reps", default=None,
                        help=f"repetitions: N, or N plus step[@scale]=n overrides (default {DEFAULT_REPS!r}; "
                             "with --check 1)")
    parser.add_argument("--only", default=",".join(STEPS), help="steps to measure: full,daily,floor,peer")
    parser.add_argument("--keep-data", action="store_true",
                        help="keep the run folders (warehouses, serving files, outputs) in benchmarks/cache")
    parser.add_argument("--check", action="store_true",
                        help="each step once, equality after the full and the daily run, no results written")
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 1, 1))
    parser.add_argument("--cache", type=Path, default=CACHE_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    steps = [s.strip() for s in args.only.split(",") if s.strip()]
    if unknown := [s for s in steps if s not in STEPS]:
        parser.error(f"--only: unknown step(s) {unknown}; choose from {', '.join(STEPS)}")
    reps_spec = args.reps or ("1" if args.check else DEFAULT_REPS)
    try:
        plan = parse_reps(reps_spec)
        points = [ScalePoint(float(s), args.days, args.start) for s in args.scales.split(",") if s.strip()]
    except ValueError as exc:
        parser.error(str(exc))
    points.sort(key=lambda p: p.millions)
    started = datetime.now(UTC)
    log(f"benchmark: scales {', '.join(p.label for p in points)}; steps {', '.join(steps)}; reps {reps_spec!r}")
    report: dict = {
        "started_at": started.isoformat(timespec="seconds"),
        "command": " ".join(["python -m benchmarks.run", *(argv if argv is not None else sys.argv[1:])]),
        "machine": _machine(),
        "versions": _versions(),
        "settings": {
            "duckdb_memory_limit": os.environ.get("SALESMP_DUCKDB_MEMORY_LIMIT") or "1GB",
            "duckdb_threads": int(os.environ.get("SALESMP_DUCKDB_THREADS") or "2"),
            "tz": os.environ.get("SALESMP_TZ") or "Asia/Shanghai",
            "landing": f"salesmp generate --seed {GENERATOR['seed']} --format {GENERATOR['format']} "
                       f"--defect-rate {GENERATOR['defect_rate']:g} --days {args.days} --start {args.start} "
                       f"--orders N --customers N/{GENERATOR['orders_per_customer']}",
            "wall_and_cpu": "wall: time.perf_counter around the subprocess; cpu: user+sys of the process tree "
                            "(getrusage RUSAGE_CHILDREN); peak: max over 0.2 s samples of the summed RSS of the tree",
        },
        "reps_spec": reps_spec,
        "reps_plan": {p.label: {s: reps_for(plan, s, p) for s in steps} for p in points},
        "scales": {},
    }
    failures = []
    for i, point in enumerate(points):
        try:
            report["scales"][point.label] = bench_scale(
                point, steps, plan, check_daily=(i == 0 or args.check), cache=args.cache
            )
        except (StepFailed, MartsDiffer) as exc:
            log(f"{point.label} FAILED: {exc}")
            failures.append(f"{point.label}: {exc}")
            if isinstance(exc, MartsDiffer):
                break  # the ratios would mean nothing
        finally:
            if not args.keep_data:
                _remove(args.cache / f"run_{point.label}")
        if not args.check:  # what is measured so far survives an interrupted benchmark
            RESULTS_DIR.mkdir(parents=True, exist_ok=True)
            partial = {**report, "finished_at": None, "interrupted_after": point.label}
            (RESULTS_DIR / "partial.json").write_text(json.dumps(partial, indent=2) + "\n", encoding="utf-8")
    definitions = None if args.check else definitions_load()
    report["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    report["total_seconds"] = round((datetime.now(UTC) - started).total_seconds(), 1)
    report.update(headline(report["scales"], definitions))
    report["definitions_load"] = definitions
    report["targets"] = judge_targets(report)
    report["failures"] = failures
    if not args.check:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        (RESULTS_DIR / "latest.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        (RESULTS_DIR / "partial.json").unlink(missing_ok=True)
        write_markdown(report, RESULTS_DIR / "latest.md")
        log(f"results in {RESULTS_DIR / 'latest.json'} and latest.md")
    for key, t in report["targets"].items():
        state = {True: "met", False: "MISSED", None: "not measured"}[t["met"]]
        log(f"target {key}: {t['value']} ({t['target']}) {state}{' by ' + t['missed_by'] if t['missed_by'] else ''}")
    failed = f"; {len(failures)} failure(s)" if failures else ""
    log(f"benchmark done in {report['total_seconds'] / 60:.1f} min{failed}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
