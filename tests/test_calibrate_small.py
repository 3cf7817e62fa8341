"""`make calibrate` at its small size: the harness writes both result files and a poisoned day is caught;
its poisoned copies change exactly what they say, on a landing zone written by hand (not the generator);
and it measures the suites it is given (the statistical gates removed from a copy: the case is missed)."""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from benchmarks import calibrate
from tests.quality_landing import write_landing


@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("calibrate")
    work, out = root / "work", root / "out"
    assert calibrate.main(["--small", "--work", str(work), "--out", str(out), "--days-per-case", "1"]) == 0
    return root, json.loads((out / "calibration.json").read_text(encoding="utf-8"))


def test_small_calibration_writes_both_files_and_catches_poisoned_days(small_run):
    root, report = small_run
    md = (root / "out" / "calibration.md").read_text(encoding="utf-8")
    assert report["mode"] == "small" and [z["name"] for z in report["zones"]] == ["small"]
    # every raw suite on the branch was validated (read at run time), each check of it reported
    suites = {p.stem for p in calibrate.EXPECTATIONS_DIR.glob("raw_*.yml")}
    assert {c["suite"] for c in report["zones"][0]["checks"]} == suites
    by_case = {c["case"]: c for c in report["poisoned"]}
    assert by_case["amounts_x100"]["verdict"] == "caught", by_case["amounts_x100"]
    assert "raw_orders.order_value" in by_case["amounts_x100"]["error_checks"]
    assert by_case["empty_day"]["expected"] == "WARN" and by_case["empty_day"]["verdict"] != "blocks"
    caught = [c for c in report["poisoned"] if c["verdict"] == "caught"]
    assert report["summary"]["caught"] == len(caught) >= 1
    for case in by_case:
        assert f"| {case} |" in md
    judged = report["summary"]["poisoned_days"] - report["summary"]["below_minimum"]
    assert f"{report['summary']['caught']} of {judged} poisoned days at or above the minimum evidence caught" in md


def _orders(folder: Path) -> dict[str, dict[str, str]]:
    rows = {}
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh):
                rows[r["order_id"]] = r
    return rows


def test_poisoned_copies_change_what_they_say_on_a_hand_made_zone(tmp_path):
    landing, overlay = tmp_path / "landing", tmp_path / "overlay"
    days = write_landing(landing, start=date(2025, 3, 1), days=3, orders_per_day=30)
    day = days[1]
    original = _orders(landing / "orders" / day.isoformat())
    cases = {c.name: c for c in calibrate.CASES}

    calibrate.poison_day(cases["amounts_x100"], landing, overlay, day)
    poisoned = _orders(overlay / "orders" / day.isoformat())
    assert poisoned.keys() == original.keys()
    assert all(Decimal(poisoned[k]["amount"]) == Decimal(v["amount"]) * 100 for k, v in original.items())

    calibrate.poison_day(cases["orders_twice_new_ids"], landing, overlay, day)
    twice = _orders(overlay / "orders" / day.isoformat())
    assert len(twice) == 2 * len(original)
    copies = {k: v for k, v in twice.items() if k not in original}
    assert sorted((v["customer_id"], v["amount"], v["order_ts"]) for v in copies.values()) == sorted(
        (v["customer_id"], v["amount"], v["order_ts"]) for v in original.values()
    )

    calibrate.poison_day(cases["single_customer"], landing, overlay, day)
    assert len({v["customer_id"] for v in _orders(overlay / "orders" / day.isoformat()).values()}) == 1

    calibrate.poison_day(cases["unknown_channels_third"], landing, overlay, day)
    moved = [v for v in _orders(overlay / "orders" / day.isoformat()).values() if v["channel_id"].startswith("ZZ")]
    assert len(moved) == len(original) // 3

    calibrate.poison_day(cases["empty_day"], landing, overlay, day)
    assert list((overlay / "orders" / day.isoformat()).iterdir()) == []


def test_the_gates_removed_from_the_suites_are_measured_as_missed(small_run, tmp_path):
    root, _ = small_run
    source = yaml.safe_load((calibrate.EXPECTATIONS_DIR / "raw_orders.yml").read_text(encoding="utf-8"))
    kept = {"schema", "keys", "values"}  # the suite without any of its statistical gates
    source["expectations"] = [e for e in source["expectations"] if e["meta"]["check"] in kept]
    source["meta"]["checks"] = {k: v for k, v in source["meta"]["checks"].items() if k in kept}
    (tmp_path / "raw_orders.yml").write_text(yaml.safe_dump(source, allow_unicode=True), encoding="utf-8")
    suites = calibrate.raw_suites(tmp_path)
    assert [s.name for s in suites] == ["raw_orders"]

    import duckdb

    work = root / "work"
    landing = work / "landing_small"
    con = duckdb.connect(str(work / "small.duckdb"))
    try:
        days = calibrate.zone_days(landing)
        x100 = tuple(c for c in calibrate.CASES if c.name == "amounts_x100")
        found = calibrate.run_cases(con, landing, tmp_path / "overlay", {"raw_orders": suites[0]}, days, {}, 1,
                                    "small", cases=x100)
    finally:
        con.close()
    assert [c["verdict"] for c in found] == ["missed"], found
