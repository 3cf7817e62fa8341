"""Run the raw-DuckDB floor (benchmarks/floor.sql) into a DuckDB file.

    python -m benchmarks.floor --landing DIR --as-of YYYY-MM-DD --out FILE.duckdb

The script runs with the pipeline's DuckDB settings (SALESMP_DUCKDB_MEMORY_LIMIT, default 1GB;
SALESMP_DUCKDB_THREADS, default 2; SALESMP_TZ), so the floor and the pipeline get the same machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

import duckdb

FLOOR_SQL = Path(__file__).resolve().parent / "floor.sql"
SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"


def run_floor(landing: Path, as_of: date, out: Path, spill_dir: Path | None = None) -> float:
    """Compute the four marts into `out` (replaced); return the seconds taken."""
    started = time.perf_counter()
    out = Path(out)
    out.unlink(missing_ok=True)
    Path(str(out) + ".wal").unlink(missing_ok=True)
    tz = os.environ.get("SALESMP_TZ") or "Asia/Shanghai"
    con = duckdb.connect(str(out))
    try:
        con.execute(f"SET memory_limit = '{os.environ.get('SALESMP_DUCKDB_MEMORY_LIMIT') or '1GB'}'")
        con.execute(f"SET threads = {int(os.environ.get('SALESMP_DUCKDB_THREADS') or '2')}")
        con.execute(f"SET TimeZone = '{tz}'")
        if spill_dir is not None:
            con.execute(f"SET temp_directory = '{spill_dir}'")
        con.execute("SET VARIABLE landing = ?", [str(Path(landing).resolve())])
        con.execute("SET VARIABLE seeds = ?", [str(SEEDS_DIR)])
        con.execute("SET VARIABLE as_of = ?::DATE", [as_of.isoformat()])
        con.execute("SET VARIABLE tz = ?", [tz])
        con.execute(FLOOR_SQL.read_text(encoding="utf-8"))
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.floor", description=__doc__.splitlines()[0])
    parser.add_argument("--landing", required=True, type=Path)
    parser.add_argument("--as-of", required=True, type=date.fromisoformat, help="last arrival day read (D)")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    seconds = run_floor(args.landing, args.as_of, args.out, spill_dir=args.out.parent / "floor_spill")
    print(f"floor: four marts as of {args.as_of} in {args.out} ({seconds:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
