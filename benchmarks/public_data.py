"""Real, public data sets converted to the feed contract (docs/feed_contract.md), for `make calibrate`.

    python -m benchmarks.public_data import olist_funnel --from PATH   # copy the raw files in
    python -m benchmarks.public_data convert olist_funnel              # write its landing zone
    python -m benchmarks.public_data status

The data never enter the repository: the raw files and the landing zone live under
`SALESMP_PUBLIC_DATA` (default `~/.cache/salesmp/public_data/<name>/raw` and `.../landing`).
This machine has no route to the web, so `import` reads a copy you have: a folder holding the
files, or a git directory (a bare clone or mirror) of a repository that holds them, read with
`git show`. Where they are missing, `make calibrate` says so in its results and goes on.

olist_funnel - the Olist marketing funnel (Kaggle `olistbr/marketing-funnel-olist`, CC BY-NC-SA 4.0;
also in public GitHub copies such as robryan/pm-takehome under data/marketing-funnel/): 8,000 real,
anonymised marketing qualified leads of a Brazilian marketplace (first contact 2017-06-01..2018-05-31)
and the 842 of them that closed. A company that sends **only leads**. Mapping to the leads feed:

| leads column | from |
|---|---|
| lead_id | mql_id |
| channel_id | the MQL's `origin` (organic_search, paid_search, social, ...); `unknown` where empty |
| stage | `created` for every MQL; `won` for every closed deal |
| stage_ts | created: `first_contact_date` (a date) at 12:00 in São Paulo; won: `won_date` in São Paulo (DST) |
| customer_id | won: `seller_id` (the lead became that seller); created: empty |
| industry | won: `business_segment`; created: empty |

The arrival day (date folder) is the stage's São Paulo date; one CSV per day. A closed deal whose
mql_id is not among the MQLs keeps channel `unknown`.

cdnow - the CDNOW purchase log (Fader and Hardie's CDNOW master file of a US online CD retailer, as
shipped in the PyPI package `lifetimes` 0.11.3, lifetimes/datasets/CDNOW_master.txt: `import
--from` takes the wheel or a folder): 69,659 real purchases of the 23,570 customers who first bought
in the first quarter of 1997, up to June 1998. A retailer that sends **only customers and orders**,
with a history long before 2020. Mapping:

| feed column | from |
|---|---|
| orders.order_id | `<customer_id>-<date>-<n>` (n: the line's number among the customer's lines of that date) |
| orders.customer_id | customer_id |
| orders.channel_id | `cdnow_web` (one channel; no channel master is delivered: a company without one) |
| orders.order_ts, updated_at | the date at 12:00 New York time |
| orders.amount, status | dollar_value as it is (a 0.00 line is quarantined out_of_range by the loader); `paid` |
| customers | one record per customer on the day of its first purchase (b2c, signup_ts = updated_at = that purchase) |
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from dagster_project.ingest.feeds import FEEDS

PUBLIC_DIR = Path(os.environ.get("SALESMP_PUBLIC_DATA") or "~/.cache/salesmp/public_data").expanduser()
MARKER = "_source.json"
SAO_PAULO = ZoneInfo("America/Sao_Paulo")


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str
    files: tuple[str, ...]  # raw file names
    search_paths: tuple[str, ...]  # where a repository copy keeps them
    convert: str  # the converter function's name


DATASETS: tuple[Dataset, ...] = (
    Dataset(
        "olist_funnel",
        "Olist marketing funnel (real, public; Kaggle olistbr/marketing-funnel-olist, CC BY-NC-SA 4.0): 8,000 "
        "marketing qualified leads 2017-06..2018-05 and 842 closed deals, converted to the leads feed only.",
        ("olist_marketing_qualified_leads_dataset.csv", "olist_closed_deals_dataset.csv"),
        ("", "data/marketing-funnel/", "marketing-funnel/", "data/"),
        "convert_olist_funnel",
    ),
    Dataset(
        "cdnow",
        "CDNOW purchase log (real, public; Fader & Hardie, as shipped in the PyPI package lifetimes 0.11.3): "
        "69,659 purchases of 23,570 customers 1997-01..1998-06, converted to customers and orders only.",
        ("CDNOW_master.txt",),
        ("", "lifetimes/datasets/", "datasets/", "data/"),
        "convert_cdnow",
    ),
)
BY_NAME = {d.name: d for d in DATASETS}
NEW_YORK = ZoneInfo("America/New_York")


def raw_dir(spec: Dataset, base: Path | None = None) -> Path:
    return (base or PUBLIC_DIR) / spec.name / "raw"


def landing_dir(spec: Dataset, base: Path | None = None) -> Path:
    return (base or PUBLIC_DIR) / spec.name / "landing"


def _digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


# -- getting the raw files -------------------------------------------------------------------------------
def import_raw(spec: Dataset, source: Path, base: Path | None = None) -> Path:
    """Copy the data set's raw files from a folder or a git directory into raw_dir; returns it."""
    target = raw_dir(spec, base)
    target.mkdir(parents=True, exist_ok=True)
    source = source.expanduser()
    if source.is_file() and zipfile.is_zipfile(source):  # a wheel or a zip that holds the files
        with zipfile.ZipFile(source) as archive:
            members = set(archive.namelist())
            for name in spec.files:
                member = next((p + name for p in spec.search_paths if p + name in members), None)
                if member is None:
                    raise SystemExit(f"{name} is not in {source}.")
                (target / name).write_bytes(archive.read(member))
        return target
    for name in spec.files:
        for prefix in spec.search_paths:
            candidate = source / prefix / name
            if candidate.is_file():
                shutil.copyfile(candidate, target / name)
                break
            if (source / "HEAD").exists() or (source / ".git").exists():
                shown = subprocess.run(
                    ["git", "--git-dir", str(source if (source / "HEAD").exists() else source / ".git"), "show",
                     f"HEAD:{prefix}{name}"], capture_output=True,
                )
                if shown.returncode == 0 and shown.stdout:
                    (target / name).write_bytes(shown.stdout)
                    break
        else:
            where = ", ".join(p or "." for p in spec.search_paths)
            raise SystemExit(f"{name} is not in {source} (looked under {where}).")
    return target


# -- converting ------------------------------------------------------------------------------------------
def _sao_paulo(ts: datetime) -> str:
    return ts.replace(tzinfo=SAO_PAULO).isoformat()


def convert_olist_funnel(raw: Path, landing: Path) -> dict:
    """The leads feed of the Olist funnel; returns counts for the marker."""
    mqls = list(csv.DictReader((raw / "olist_marketing_qualified_leads_dataset.csv").open(encoding="utf-8")))
    deals = list(csv.DictReader((raw / "olist_closed_deals_dataset.csv").open(encoding="utf-8")))
    origin = {m["mql_id"]: (m.get("origin") or "").strip() or "unknown" for m in mqls}
    per_day: dict[date, list[list[str]]] = defaultdict(list)
    skipped = 0
    for m in mqls:
        try:
            day = date.fromisoformat(m["first_contact_date"].strip()[:10])
        except ValueError:
            skipped += 1
            continue
        ts = _sao_paulo(datetime.combine(day, time(12, 0)))
        per_day[day].append([m["mql_id"], origin[m["mql_id"]], "created", ts, "", ""])
    for d in deals:
        try:
            won = datetime.fromisoformat(d["won_date"].strip())
        except ValueError:
            skipped += 1
            continue
        per_day[won.date()].append([d["mql_id"], origin.get(d["mql_id"], "unknown"), "won", _sao_paulo(won),
                                    d.get("seller_id", ""), (d.get("business_segment") or "").strip()])
    shutil.rmtree(landing, ignore_errors=True)
    _write_days(landing, "leads", per_day)
    return {"mqls": len(mqls), "closed_deals": len(deals), "rows_written": sum(map(len, per_day.values())),
            "rows_skipped": skipped, "days": len(per_day),
            "first_day": min(per_day).isoformat(), "last_day": max(per_day).isoformat()}


def _write_days(landing: Path, feed: str, per_day: dict[date, list[list[str]]]) -> None:
    header = list(FEEDS[feed].column_names)
    for day, rows in sorted(per_day.items()):
        folder = landing / feed / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        (folder / f"{feed}_{day:%Y%m%d}.csv").write_text(buf.getvalue(), encoding="utf-8")


def convert_cdnow(raw: Path, landing: Path) -> dict:
    """Customers and orders of the CDNOW master file; returns counts for the marker."""
    orders: dict[date, list[list[str]]] = defaultdict(list)
    first_purchase: dict[str, date] = {}
    seen: dict[tuple[str, date], int] = defaultdict(int)
    skipped = lines = 0
    for line in (raw / "CDNOW_master.txt").read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if len(fields) != 4 or not fields[1].isdigit():
            continue  # the header
        lines += 1
        customer, when, _cds, dollars = fields
        try:
            day = datetime.strptime(when, "%Y%m%d").date()
        except ValueError:
            skipped += 1
            continue
        seen[(customer, day)] += 1
        ts = datetime.combine(day, time(12, 0)).replace(tzinfo=NEW_YORK).isoformat()
        orders[day].append([f"{customer}-{when}-{seen[(customer, day)]}", customer, "cdnow_web", ts, dollars, "paid",
                            ts, "", ""])
        first_purchase[customer] = min(day, first_purchase.get(customer, day))
    customers: dict[date, list[list[str]]] = defaultdict(list)
    for customer, day in sorted(first_purchase.items()):
        ts = datetime.combine(day, time(12, 0)).replace(tzinfo=NEW_YORK).isoformat()
        customers[day].append([customer, "b2c", "", "", "", "", "", ts, ts])
    shutil.rmtree(landing, ignore_errors=True)
    _write_days(landing, "orders", orders)
    _write_days(landing, "customers", customers)
    return {"purchases": lines, "customers": len(first_purchase), "rows_written": lines + len(first_purchase),
            "rows_skipped": skipped, "days": len(orders),
            "first_day": min(orders).isoformat(), "last_day": max(orders).isoformat()}


def convert(spec: Dataset, base: Path | None = None) -> dict:
    raw, landing = raw_dir(spec, base), landing_dir(spec, base)
    files = [raw / f for f in spec.files]
    counts = globals()[spec.convert](raw, landing)
    marker = {"dataset": spec.name, "raw_digest": _digest(files), "converted_at": datetime.now().isoformat(
        timespec="seconds"), **counts}
    (landing / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    return marker


def ensure_landing(spec: Dataset, landing: Path | None = None) -> dict:
    """{"available": bool, "message": one sentence}; converts again when the raw files changed."""
    base = landing.parent.parent if landing is not None else None
    raw = raw_dir(spec, base)
    files = [raw / f for f in spec.files]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        return {"available": False, "message": (
            f"not run: {', '.join(missing)} not found in {raw}; get the data set (see benchmarks/public_data.py) "
            f"and run `python -m benchmarks.public_data import {spec.name} --from PATH`.")}
    marker_path = landing_dir(spec, base) / MARKER
    marker = json.loads(marker_path.read_text(encoding="utf-8")) if marker_path.exists() else {}
    if marker.get("raw_digest") != _digest(files):
        marker = convert(spec, base)
    return {"available": True, "message": (
        f"converted: {marker['rows_written']:,} rows on {marker['days']} arrival days "
        f"({marker['first_day']}..{marker['last_day']}), {marker['rows_skipped']} source rows without a usable date.")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.public_data", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import", help="copy a data set's raw files from a folder or a git directory")
    imp.add_argument("name", choices=list(BY_NAME))
    imp.add_argument("--from", dest="source", type=Path, required=True)
    conv = sub.add_parser("convert", help="write the data set's landing zone")
    conv.add_argument("name", choices=list(BY_NAME))
    sub.add_parser("status", help="which data sets are ready")
    args = parser.parse_args(argv)
    if args.command == "import":
        print(f"raw files in {import_raw(BY_NAME[args.name], args.source)}")
    elif args.command == "convert":
        marker = convert(BY_NAME[args.name])
        print(f"landing zone {landing_dir(BY_NAME[args.name])}: {marker}")
    else:
        for spec in DATASETS:
            print(f"{spec.name}: {ensure_landing(spec)['message']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
