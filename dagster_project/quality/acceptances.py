"""Accepted exceptions: a blocking check result an operator reviewed and let through.

`salesmp accept ASSET CHECK DAY --reason TEXT` records that the ERROR of CHECK on ASSET for arrival
day DAY was reviewed. An acceptance belongs to the day's data as it was reviewed: it holds a
fingerprint of the rows the check judges (the asset's table for that arrival day, or the whole
table of a mart), so a day delivered again with other content is judged afresh. The next run shows
the accepted result as WARN, with the acceptance in the check's metadata, and publishes;
`publish_log.acceptances` lists every acceptance a build used.

Acceptances are data, not code: they live in `acceptances.json` under DAGSTER_HOME (beside the run
history, never in the repository) and survive `salesmp run`.
"""

from __future__ import annotations

import getpass
import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from dagster_project.errors import UserError
from dagster_project.quality.suites import Suite, load_suites


@dataclass(frozen=True)
class Acceptance:
    asset: str  # e.g. raw/orders
    check: str
    day: str  # ISO arrival day
    reason: str
    who: str
    at: str
    fingerprint: str

    def key(self) -> tuple[str, str, str]:
        return (self.asset, self.check, self.day)


def store_path() -> Path:
    home = Path(os.environ.get("DAGSTER_HOME") or "data/dagster_home").expanduser().resolve()
    return home / "acceptances.json"


def load(path: Path | None = None) -> list[Acceptance]:
    path = path or store_path()
    if not path.exists():
        return []
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        return [Acceptance(**row) for row in rows]
    except (ValueError, TypeError) as exc:
        raise UserError(f"The acceptances file {path} is not valid ({exc}); fix or remove it.") from exc


def save(items: list[Acceptance], path: Path | None = None) -> None:
    path = path or store_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([asdict(a) for a in items], ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(path)


def _suite_for(asset: str, check: str) -> Suite:
    suites = [s for s in load_suites() if s.asset_label == asset]
    if not suites:
        known = ", ".join(sorted(s.asset_label for s in load_suites()))
        raise UserError(f"No quality suite judges the asset {asset!r}; the assets are: {known}.")
    suite = suites[0]
    if check not in suite.checks:
        raise UserError(f"{asset} has no check {check!r}; its checks are: {', '.join(suite.checks)}.")
    if not suite.checks[check].blocking:
        raise UserError(f"Check {check} on {asset} only warns (WARN); there is nothing to accept.")
    return suite


def fingerprint(con: duckdb.DuckDBPyConnection, suite: Suite, day: date) -> str:
    """Rows and a hash of the rows the suite judges for `day` (load times left out)."""
    table = next((b.table for b in suite.batches.values() if b.table), None)
    if table is None:
        return "-"
    per_day = next((b.per_day for b in suite.batches.values() if b.table == table and b.per_day), None)
    columns = [
        c for (c,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema || '.' || table_name = ? "
            "ORDER BY ordinal_position",
            [table],
        ).fetchall()
        if c not in ("_ingested_at",)
    ]
    if not columns:
        return "-"
    cols = ", ".join(f'"{c}"' for c in columns)
    where = f' WHERE "{per_day}" = ?' if per_day else ""
    schema, name = table.split(".", 1)
    rows, digest = con.execute(
        f'SELECT count(*), coalesce(sum(hash({cols})), 0) FROM "{schema}"."{name}"{where}',
        [day] if per_day else [],
    ).fetchone()
    return f"{rows}:{digest}"


def accept(con: duckdb.DuckDBPyConnection, asset: str, check: str, day: date, reason: str) -> Acceptance:
    if not reason.strip():
        raise UserError("--reason must say why the result is accepted (it goes into publish_log).")
    suite = _suite_for(asset, check)
    item = Acceptance(
        asset=asset,
        check=check,
        day=day.isoformat(),
        reason=reason.strip(),
        who=getpass.getuser(),
        at=datetime.now(UTC).isoformat(timespec="seconds"),
        fingerprint=fingerprint(con, suite, day),
    )
    items = [a for a in load() if a.key() != item.key()] + [item]
    save(items)
    return item


def revoke(asset: str, check: str, day: date) -> Acceptance:
    items = load()
    key = (asset, check, day.isoformat())
    gone = [a for a in items if a.key() == key]
    if not gone:
        raise UserError(f"There is no acceptance of {check} on {asset} for {day}; `salesmp accepted` lists them.")
    save([a for a in items if a.key() != key])
    return gone[0]


def matching(con: duckdb.DuckDBPyConnection, suite: Suite, check: str, days: list[str]) -> dict[str, Acceptance]:
    """The acceptances of `check` whose day is among `days` and whose fingerprint still matches the data."""
    found = {}
    for a in load():
        if a.asset != suite.asset_label or a.check != check or a.day not in days:
            continue
        if fingerprint(con, suite, date.fromisoformat(a.day)) == a.fingerprint:
            found[a.day] = a
    return found


def accept_command(asset: str, check: str, day: str) -> str:
    return f'salesmp accept {asset} {check} {day} --reason "..."'
