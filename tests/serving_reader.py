"""A BI reader for the tests: loops read-only queries on the serving database until told to stop.

    python tests/serving_reader.py SERVING STOP_FILE RESULT_JSON [--persistent]

Each query opens the file read-only (or, with --persistent, reuses one connection for 25 queries),
reads the newest publish_log row and counts the rows of every mart it lists. A query whose counts
differ from the logged ones saw a mix of two builds. Writes {"queries", "failed", "mixed",
"not_yet", "builds_seen", "errors"} to RESULT_JSON when STOP_FILE appears.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb


def one_query(con: duckdb.DuckDBPyConnection) -> tuple[str, bool]:
    build_id, logged = con.execute(
        "SELECT build_id, row_counts FROM publish_log ORDER BY published_at DESC LIMIT 1"
    ).fetchone()
    mixed = False
    for table, rows in json.loads(logged).items():
        if con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] != rows:
            mixed = True
    markers = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'build_marker'"
        ).fetchall()
    ]
    if markers:  # synthetic marts carry the build they belong to in every row
        seen = set()
        for table in markers:
            seen |= {r[0] for r in con.execute(f'SELECT DISTINCT build_marker FROM "{table}"').fetchall()}
        mixed = mixed or seen != {build_id}
    return build_id, mixed


def main() -> None:
    serving, stop, result = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    persistent = "--persistent" in sys.argv
    stats = {"queries": 0, "failed": 0, "mixed": 0, "not_yet": 0, "builds_seen": [], "errors": []}
    con = None
    uses = 0
    while not stop.exists():
        if not serving.exists():
            stats["not_yet"] += 1
            time.sleep(0.05)
            continue
        try:
            if con is None:
                con = duckdb.connect(str(serving), read_only=True)
            build_id, mixed = one_query(con)
            stats["queries"] += 1
            stats["mixed"] += int(mixed)
            if build_id not in stats["builds_seen"]:
                stats["builds_seen"].append(build_id)
        except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
            stats["queries"] += 1
            stats["failed"] += 1
            stats["errors"].append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}"[:300])
            if con is not None:
                con.close()
                con = None
        uses += 1
        if con is not None and (not persistent or uses % 25 == 0):
            con.close()
            con = None
    if con is not None:
        con.close()
    result.write_text(json.dumps(stats))


if __name__ == "__main__":
    main()
