"""The generator's profiles (`salesmp generate --profile`): each shape is in the files it writes,
measured from the files with plain Python (csv, datetime), not from the generator's own numbers."""

from __future__ import annotations

import csv
import statistics
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dagster_project.cli import main
from dagster_project.generator import generate_landing_zone
from dagster_project.generator.profiles import PROFILES

TZ = ZoneInfo("Asia/Shanghai")


def _records(root: Path, feed: str):
    for path in sorted((root / feed).glob("*/*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                yield path.parent.name, row


def _local(ts: str) -> datetime:
    t = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    return (t if t.tzinfo else t.replace(tzinfo=TZ)).astimezone(TZ)


def _first_orders(root: Path) -> list[dict]:
    """One record per order (its first line), valid ones only."""
    seen, out = set(), []
    for _day, r in _records(root, "orders"):
        if r.get("order_id") and r["order_id"] not in seen and r.get("order_ts") and r.get("amount"):
            try:
                r["_ts"], r["_amount"] = _local(r["order_ts"]), float(r["amount"])
            except ValueError:
                continue
            seen.add(r["order_id"])
            out.append(r)
    return out


def gen(tmp_path: Path, profile: str, **kw) -> Path:
    out = tmp_path / profile
    generate_landing_zone(out, seed=5, file_format="csv", defect_rate=0.0, progress=False, profile=profile, **kw)
    return out


def test_b2b_small_has_no_weekend_orders_and_few_a_day(tmp_path):
    root = gen(tmp_path, "b2b-small", start=date(2025, 3, 3), days=60, customers=80, orders=180)
    orders = _first_orders(root)
    assert len(orders) == 180
    assert [o["order_ts"] for o in orders if o["_ts"].weekday() >= 5] == []
    per_day = Counter(o["_ts"].date() for o in orders)
    assert statistics.median(per_day.values()) <= 6


def test_platform_festivals_peak_on_double_11_at_lower_prices(tmp_path):
    root = gen(tmp_path, "platform-festivals", start=date(2025, 10, 20), days=40, customers=6000, orders=20000)
    orders = _first_orders(root)
    per_day = Counter(o["_ts"].date() for o in orders)
    usual = statistics.median(per_day.values())
    assert per_day[date(2025, 11, 11)] >= 5 * usual, (per_day[date(2025, 11, 11)], usual)
    festival = [o["_amount"] for o in orders if o["_ts"].date() == date(2025, 11, 11)]
    other = [o["_amount"] for o in orders if o["_ts"].date() == date(2025, 10, 28)]
    assert statistics.median(festival) < 0.85 * statistics.median(other)


def test_late_feed_and_feed_subsets(tmp_path):
    days = 50
    late = gen(tmp_path, "late-feed", days=days, customers=300, orders=2000)
    first = {feed: min(p.name for p in (late / feed).iterdir()) for feed in ("orders", "channels", "surveys")}
    start = date(2025, 1, 1)
    assert first["orders"] == start.isoformat()
    begins = date.fromordinal(start.toordinal() + int(days * 0.4))
    assert first["channels"] == begins.isoformat()  # a snapshot every day from its first day
    assert begins.isoformat() <= first["surveys"] <= date.fromordinal(begins.toordinal() + 3).isoformat()
    assert all(day >= begins.isoformat() for day, _r in _records(late, "surveys"))

    only = gen(tmp_path, "orders-customers", days=20, customers=200, orders=800)
    assert sorted(p.name for p in only.iterdir() if p.is_dir()) == ["customers", "orders"]
    leads = gen(tmp_path, "leads-only", days=20, customers=2000, orders=800)
    assert sorted(p.name for p in leads.iterdir() if p.is_dir()) == ["leads"]
    assert {r["stage"] for _d, r in _records(leads, "leads")} >= {"created", "qualified"}


def test_cli_profile_defaults_and_help(tmp_path, capsys):
    assert main(["generate", "--help"]) == 0
    shown = capsys.readouterr().out
    for name, p in PROFILES.items():
        assert name in shown and f"{p.orders:,} orders" in shown
    assert main(["generate", "--out", str(tmp_path / "z"), "--profile", "b2b-small", "--days", "30", "--quiet"]) == 0
    truth = (tmp_path / "z" / "_ground_truth.json").read_text(encoding="utf-8")
    assert '"profile": "b2b-small"' in truth and '"orders": 700' in truth and '"start": "2025-03-01"' in truth
    assert main(["generate", "--out", str(tmp_path / "y"), "--profile", "nope"]) != 0
