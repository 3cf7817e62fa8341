"""The first daily partition comes from the data when SALESMP_PARTITIONS_START is unset."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

from dagster_project.config import FALLBACK_PARTITIONS_START, earliest_landing_day, iso_day
from tests.conftest import salesmp_env

ROOT = Path(__file__).resolve().parent.parent


def _start_in_a_fresh_process(env: dict[str, str]) -> str:
    code = (
        "import json; from dagster_project.partitions import daily_partitions as p; "
        "print(json.dumps(p.get_first_partition_key()))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_history_from_the_1990s_needs_no_setting(tmp_path):
    landing = tmp_path / "landing"
    for folder in ("orders/1995-06-30", "orders/1996-01-02", "customers/1995-07-01", "orders/19950101",
                   "orders/1995-02-30", "order/1994-01-01"):
        (landing / folder).mkdir(parents=True)
    # YYYYMMDD, an impossible date and a misspelt feed are not days
    assert earliest_landing_day(landing) == date(1995, 6, 30)
    env = salesmp_env(tmp_path)
    env.pop("SALESMP_PARTITIONS_START", None)
    assert _start_in_a_fresh_process(env) == "1990-01-01"  # covers 1995 with stable partition keys
    (landing / "orders" / "1987-04-01").mkdir()  # older than the fixed early date: the data's day
    assert _start_in_a_fresh_process(env) == "1987-04-01"


def test_without_an_early_folder_the_partitions_start_in_1990(tmp_path):
    (tmp_path / "landing" / "orders" / "2025-03-01").mkdir(parents=True)
    env = salesmp_env(tmp_path)
    env.pop("SALESMP_PARTITIONS_START", None)
    assert _start_in_a_fresh_process(env) == FALLBACK_PARTITIONS_START.isoformat() == "1990-01-01"
    env["SALESMP_PARTITIONS_START"] = "2024-01-01"
    assert _start_in_a_fresh_process(env) == "2024-01-01"


def test_a_folder_named_yyyymmdd_is_not_a_day():
    assert iso_day("20250302") is None and iso_day("2025-02-30") is None and iso_day("2025-03-02") == date(2025, 3, 2)
