"""Check that daily incremental dbt runs give the same tables as one full build.

    python tests/dbt_fixture/check_incremental_equals_full.py [workdir]

Builds the fixture warehouse twice, runs `dbt build` once without vars on the first and once per
partition with --vars min_date/max_date on the second (the order Dagster's daily schedule uses),
then compares every table of the marts and intermediate schemas row for row.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_fixture_warehouse import PARTITIONS, build  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]  # the dbt project (dbt_project.yml)


def dbt(warehouse: Path, *args: str) -> float:
    # dbt's artifacts beside the warehouse: target/ holds the manifest other processes load.
    env = {**os.environ, "SALESMP_WAREHOUSE": str(warehouse), "DBT_TARGET_PATH": str(warehouse.parent / "dbt_target"),
           "DBT_LOG_PATH": str(warehouse.parent / "dbt_target")}
    started = time.perf_counter()
    subprocess.run(["dbt", *args, "--profiles-dir", "dbt"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def tables(path: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = con.sql(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('marts', 'intermediate') and table_type = 'BASE TABLE' order by 1"
        ).fetchall()
        return {n: sorted(con.sql(f"select * from {n}").fetchall(), key=repr) for (n,) in names}
    finally:
        con.close()


def main(workdir: Path) -> int:
    full, daily = workdir / "full.duckdb", workdir / "daily.duckdb"
    build(full)
    build(daily)
    print(f"full build: {dbt(full, 'build'):.1f}s")
    for day in PARTITIONS:
        window = {"min_date": day.isoformat(), "max_date": (day + timedelta(days=1)).isoformat()}
        print(f"daily build {day}: {dbt(daily, 'build', '--vars', json.dumps(window)):.1f}s")
    a, b = tables(full), tables(daily)
    bad = [n for n in sorted(set(a) | set(b)) if a.get(n) != b.get(n)]
    for n in bad:
        print("DIFFERS:", n)
    print(f"compared {len(a)} tables: {'all equal' if not bad else f'{len(bad)} differ'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/salesmp_incremental_check")))
