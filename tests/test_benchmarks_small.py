"""The benchmark harness at a tiny scale: its floor (benchmarks/floor.sql) and its pandas peer
(benchmarks/peer.py) compute the same four marts the pipeline publishes, through the harness's own
functions, so the ratios `make bench` reports compare like with like."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from benchmarks.equality import MartsDiffer, assert_marts_equal
from benchmarks.run import Bench, ScalePoint, ensure_landing, judge_targets, parse_reps, reps_for

# 20,000 orders over 60 days: two months, so month-on-month figures (nps_change, CAC streaks) exist.
TINY = ScalePoint(0.02, days=60, start=date(2024, 1, 1))


@pytest.fixture(scope="module")
def tiny_bench(tmp_path_factory) -> tuple[Bench, dict]:
    root = tmp_path_factory.mktemp("bench")
    landing = root / "landing_tiny"
    generation = ensure_landing(TINY, landing)
    assert ensure_landing(TINY, landing)["cached"], "a second call must reuse the landing zone"
    bench = Bench(TINY, landing, root / "run_tiny")
    bench.run_dir.mkdir()
    measured = {
        "generation": generation,
        "floor": bench.floor(TINY.full_to),
        "peer": bench.peer(TINY.full_to),
        "full": bench.full(),
    }
    return bench, measured


def test_floor_and_peer_equal_the_published_marts(tiny_bench):
    bench, measured = tiny_bench
    outcome = bench.check_equal({"floor": bench.run_dir / "floor.duckdb", "peer": bench.run_dir / "peer"}, "full")
    assert set(outcome) == {"floor_vs_full", "peer_vs_full"}
    for step in ("floor", "peer", "full"):
        m = measured[step]
        assert m.wall_s > 0 and m.cpu_s > 0 and m.peak_rss_bytes > 10 * 2**20, (step, m)


def test_a_one_cent_difference_fails_loudly(tiny_bench, tmp_path):
    bench, _ = tiny_bench
    changed = tmp_path / "floor_changed.duckdb"
    changed.write_bytes((bench.run_dir / "floor.duckdb").read_bytes())
    con = duckdb.connect(str(changed))
    con.execute(
        "UPDATE mart_customer_rfm SET monetary = monetary + 0.01 "
        "WHERE customer_id = (SELECT min(customer_id) FROM mart_customer_rfm)"
    )
    con.execute("DELETE FROM mart_nps WHERE grain = 'all' AND month = (SELECT min(month) FROM mart_nps)")
    con.close()
    with pytest.raises(MartsDiffer) as failure:
        assert_marts_equal(bench.serving, changed, "floor")
    message = str(failure.value)
    assert "1 rows differ in monetary" in message
    assert "1 keys in the reference only (missing)" in message


def test_reps_spec_and_targets():
    plan = parse_reps("3,full@10=1,peer=2")
    assert reps_for(plan, "full", ScalePoint(10)) == 1
    assert reps_for(plan, "full", ScalePoint(1)) == 3
    assert reps_for(plan, "peer", ScalePoint(3)) == 2
    with pytest.raises(ValueError):
        parse_reps("fulll=2")
    targets = judge_targets({
        "headline_scale": "10m", "full_over_floor": 3.0, "daily_over_full": 0.05,
        "daily_10m_over_daily_1m": None, "peak_rss_gib_10m": 1.5, "peer_over_full": 2.5,
        "definitions_load_s": 2.0, "pipeline_peak_rss_gib": 1.5, "peer_peak_rss_gib": 1.0,
    })
    assert targets["full_over_floor"]["met"] is False and targets["full_over_floor"]["missed_by"] == "2.00x the limit"
    assert targets["daily_over_full"]["met"] is True
    assert targets["daily_10m_over_daily_1m"]["met"] is None
    assert targets["peer_over_full"]["met"] is False  # faster, but not with lower peak memory
    assert "not below the peer's" in targets["peer_over_full"]["missed_by"]
