"""Seeded landing-zone generator: realistic sales-customer feeds with known, injected defects.

Layout written under ``out``::

    <out>/<feed>/<YYYY-MM-DD>/<feed>_<YYYYMMDD>.(csv|jsonl|parquet)   one main file per feed and day
    <out>/<feed>/<YYYY-MM-DD>/<feed>_extra_<n>.<ext>                   a few new records lacking a
                                                                       required column (missing_column)
    <out>/<feed>/<YYYY-MM-DD>/<feed>_corrupt_<n>.parquet               junk bytes (unreadable_file)
    <out>/_ground_truth.json

The date folder is the arrival day. Every feed of ``FEEDS`` is written; a feed has a folder only for
the days on which records arrive (``sales_targets`` on the first day of each month, the others
daily as long as there is something to deliver).

File content (what the loader may rely on):

* CSV: UTF-8, header row, ``,`` separator, ``\\n`` line ends (every line ends with one, except a
  truncated last line), fields quoted with ``"`` only when they contain ``,`` or ``"``, no line
  break inside a field, empty optional value = empty field. Column order is shuffled in about half
  the files and about a fifth carry an extra column ``_export_batch`` (same value on every line).
* JSONL: one object per line, values as JSON strings; ``is_referral`` as JSON ``true``/``false`` in
  about half the files; an empty value is ``null``, or the key is absent in about 30% of the files.
* Parquet: every column of type string (null for an empty value), written by pyarrow.
* Timestamps are ISO 8601 in three forms mixed per value: ``2025-03-01T10:15:00+08:00``,
  ``2025-03-01T02:15:00Z`` and naive local time ``2025-03-01 10:15:00`` (naive only where the local
  time is unambiguous). Dates ``YYYY-MM-DD``, months ``YYYY-MM``, money exact with two decimals.

Ground truth (``_ground_truth.json``, sorted keys, indent 2, UTF-8)::

    {"generator": {the arguments},
     "feeds": {feed: {"YYYY-MM-DD": {"rows_written": n, "defects": {reason_code: count},
                                      "files": {file name: {"format": f, "rows_written": n,
                                                            "defects": {...}}}}}},
     "totals": {feed: {"rows_written": n, "defects": {reason_code: count}, "files": n, "days": n}}}

``rows_written`` counts data records: lines after the header (CSV) or lines (JSONL) including
defective, repeated and truncated lines; Parquet rows; an unreadable file counts 1. ``defects``
gives, per reason code, the number of those rows that must end in quarantine with that code; zero
counts are omitted. So rows loaded = rows_written - sum(defects). Each defective row is wrong in
exactly one way. ``conflicting_key`` counts both rows of a pair (one of them is the extra copy),
``duplicate_row`` counts the repeat only.

Defects (only when ``defect_rate`` > 0). Per feed and day about ``defect_rate x max(rows, 30)``
defects are injected (a carried remainder keeps small feeds in proportion; at most about half the
lines of a file and two extra files of each kind per day, so very high rates saturate, and the
ground truth always gives the numbers actually injected); the kinds are dealt in
shuffled rounds of every kind that applies to the feed, so all kinds occur before any repeats.
Every defective row is otherwise valid, and no first or last line is used except by truncation:

* in place, any format: ``missing_value`` (a required field empty / null / absent key),
  ``bad_timestamp`` (a required timestamp, date or month such as ``2025-13-45 25:61:00``),
  ``bad_number`` (``12.345``, ``12,5元``, ``9.5`` in an integer, ``ten``), ``out_of_range``
  (amount ``0.00`` or negative, nps ``11``/``-1``, csat ``0``/``6``, negative counts or spend),
  ``bad_enum`` (``PAID``, ``shipped``, ``negotiation``, is_referral ``yes``, ...);
* CSV and JSONL only: ``bad_encoding`` (GBK bytes or ``\\xff\\xfe`` inside a text field),
  ``malformed_line`` (CSV: one or two fields too many or one too few; JSONL: an array, an object
  without its closing brace, or single quotes), ``truncated_line`` (at most one per file: the last
  line cut before its last field, without a line end);
* extra rows: ``duplicate_row`` (an exact copy placed later in the file) and ``conflicting_key``
  (a copy with the same key and one other valid value changed, placed later; both rows count);
* extra files: ``missing_column`` (``<feed>_extra_<n>``: 1-3 copies of the day's records with fresh
  keys such as ``OX00001``, lacking one required column) and ``unreadable_file``
  (``<feed>_corrupt_<n>.parquet``, junk bytes).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
from tqdm import tqdm

from dagster_project.generator._clock import Clock
from dagster_project.generator._model import Model
from dagster_project.generator._writer import FeedWriter
from dagster_project.generator.profiles import get_profile
from dagster_project.ingest.feeds import FEEDS, FILE_FORMATS

GROUND_TRUTH = "_ground_truth.json"
FORMATS = (*FILE_FORMATS, "mixed")
_MODEL_STEPS = 6


def _check(
    out: Path,
    seed: int,
    start: dt.date,
    days: int,
    customers: int,
    orders: int,
    defect_rate: float,
    file_format: str,
    tz: str,
) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"The seed must be a non-negative integer, not {seed!r}.")
    if file_format not in FORMATS:
        raise ValueError(f"The file format must be one of {', '.join(FORMATS)}, not {file_format!r}.")
    if not isinstance(start, dt.date):
        raise ValueError(f"The start must be a date, not {start!r}.")
    if days < 1:
        raise ValueError(f"The number of days must be at least 1, not {days}.")
    if customers < 1:
        raise ValueError(f"The number of customers must be at least 1, not {customers}.")
    if orders < 0:
        raise ValueError(f"The number of orders must not be negative, not {orders}.")
    if not 0 <= defect_rate < 1:
        raise ValueError(f"The defect rate must be at least 0 and below 1, not {defect_rate}.")
    try:
        ZoneInfo(tz)
    except Exception as exc:  # noqa: BLE001 - any failure means the name is not a usable zone
        raise ValueError(f"The time zone {tz!r} is not a known IANA time zone.") from exc
    if out.exists() and not out.is_dir():
        raise ValueError(f"The output {out} exists and is not a directory.")


def _prepare(out: Path) -> None:
    """Start from an empty landing zone; only a previous generator output is cleared."""
    if not out.exists():
        out.mkdir(parents=True)
        return
    feed_dirs = [out / f for f in FEEDS if (out / f).exists()]
    if feed_dirs and not (out / GROUND_TRUTH).exists():
        raise ValueError(
            f"The directory {out} already holds feed folders that the generator did not write; "
            "choose an empty or new directory."
        )
    for d in feed_dirs:
        shutil.rmtree(d)
    (out / GROUND_TRUTH).unlink(missing_ok=True)


def generate_landing_zone(
    out: Path,
    *,
    seed: int = 42,
    start: dt.date = dt.date(2025, 1, 1),
    days: int = 365,
    customers: int = 20_000,
    orders: int = 300_000,
    defect_rate: float = 0.001,
    file_format: str = "mixed",
    tz: str = "Asia/Shanghai",
    progress: bool = True,
    profile: str = "default",
) -> dict:
    """Write a seeded landing zone under ``out`` and return its ground truth (also written to
    ``out/_ground_truth.json``). Same arguments, same bytes. See the module docstring for the layout.

    ``profile`` (see profiles.py) shapes the simulation and the feeds delivered: a feed the profile
    does not deliver has no folder and no entry in the ground truth; a feed that starts late has
    no records before its first day (they are not delivered at all, as before a system existed).
    """
    shape = get_profile(profile)
    out = Path(out)
    _check(out, seed, start, days, customers, orders, defect_rate, file_format, tz)
    _prepare(out)
    clock = Clock(start, days, tz)
    total = _MODEL_STEPS + len(FEEDS) * days
    with tqdm(
        total=total, desc="generate", unit="step", file=sys.stderr, disable=not progress, leave=False
    ) as bar:

        def tick(desc: str = "") -> None:
            if desc:
                bar.set_postfix_str(desc, refresh=False)
            bar.update(1)

        feeds = Model(clock, seed, customers, orders, tick, profile=shape).build()
        truth_feeds: dict[str, dict] = {}
        for name in FEEDS:
            rows = feeds.pop(name)
            if not shape.delivers(name):
                bar.update(days)
                continue
            bar.set_postfix_str(f"writing {name}", refresh=False)
            table = pa.table({c: rows.columns[c] for c in FEEDS[name].column_names})
            arrival, key = rows.arrival, rows.sort_key
            del rows
            first = shape.first_day(name, days)
            if first > 0:
                kept = np.flatnonzero(arrival >= first)
                table, arrival, key = table.take(pa.array(kept)), arrival[kept], key[kept]
            if not np.all(
                (arrival[1:] > arrival[:-1]) | ((arrival[1:] == arrival[:-1]) & (key[1:] >= key[:-1]))
            ):
                order = np.lexsort((key, arrival))
                table, arrival = table.take(pa.array(order)), arrival[order]
                del order
            writer = FeedWriter(out, name, seed, file_format, defect_rate, clock)
            truth_feeds[name] = writer.write(table, arrival, lambda: bar.update(1))
            del table
    truth = {
        "generator": {
            "seed": seed,
            "start": start.isoformat(),
            "days": days,
            "customers": customers,
            "orders": orders,
            "defect_rate": defect_rate,
            "format": file_format,
            "tz": tz,
            **({"profile": profile} if profile != "default" else {}),
        },
        "feeds": truth_feeds,
        "totals": {name: _totals(per_day) for name, per_day in truth_feeds.items()},
    }
    text = json.dumps(truth, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    (out / GROUND_TRUTH).write_text(text, encoding="utf-8")
    return json.loads(text)


def _totals(per_day: dict) -> dict:
    defects: dict[str, int] = {}
    for entry in per_day.values():
        for k, v in entry["defects"].items():
            defects[k] = defects.get(k, 0) + v
    return {
        "rows_written": sum(e["rows_written"] for e in per_day.values()),
        "defects": dict(sorted(defects.items())),
        "files": sum(len(e["files"]) for e in per_day.values()),
        "days": len(per_day),
    }
