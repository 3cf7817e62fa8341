"""Compare the issue-6 marts of a built warehouse with the independent pandas oracle.

    python tests/dbt_fixture_care/compare_with_oracle.py /tmp/care.duckdb [--core-from-db]

Loads the raw tables, computes tests/oracle/care_marts.compute_care_marts and compares every mart
with marts.<name> through tests/oracle/compare.assert_frames_match (to the cent and to the count).
--core-from-db feeds the oracle the dbt mart_customer_rfm / mart_nps instead of the core oracle,
to separate differences of the care marts from those of the core marts.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.oracle.care_marts import MART_KEYS, MART_NAMES, compute_care_marts  # noqa: E402
from tests.oracle.compare import assert_frames_match  # noqa: E402
from tests.oracle.raw_io import load_mart, load_raw  # noqa: E402


def main(db: str, core_from_db: bool) -> int:
    raw = load_raw(db)
    core = None
    if core_from_db:
        core = {
            name: load_mart(db, name) for name in ("mart_customer_rfm", "mart_nps", "mart_customer_tiers")
        }
    expected = compute_care_marts(raw, ROOT / "seeds", core=core)
    failures = 0
    for name in MART_NAMES:
        actual = load_mart(db, name)
        try:
            assert_frames_match(actual, expected[name], MART_KEYS[name], name=name)
            print(f"ok   {name}: {len(actual)} rows")
        except AssertionError as exc:
            failures += 1
            print(f"FAIL {exc}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], "--core-from-db" in sys.argv[2:]))
