"""The expectation suites in `expectations/`: one YAML file per raw feed and per mart.

A file is a Great Expectations 1.x suite as GE serializes it (`name`, `expectations` with `type`,
`kwargs`, `severity`, `meta`, `description`), so `gx.ExpectationSuite(**file)` loads it; our own
additions live under `meta`:

- `meta.asset`: the asset the suite checks (`raw/orders`, `mart_nps`).
- `meta.batches`: what each expectation is validated on (see `batches.py`): the asset's `rows`
  (one arrival day at a time for a raw feed), its `schema` (column -> DuckDB type), or a small
  frame computed in DuckDB (`daily_volume`, `sql`) such as one row per arrival day with the day's
  figures beside those of the trailing weeks.
- `meta.checks`: the Dagster asset checks, name -> description. Every expectation names its check
  (`meta.check`) and its batch (`meta.batch`).

Severity is GE's own field: `critical` is a Dagster ERROR (the check is blocking: nothing downstream
runs), `warning` is a WARN (shown and recorded, never blocking). Thresholds live only in the files.

This module never imports Great Expectations, so loading the Dagster definitions stays fast.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
import yaml

from dagster_project.config import PROJECT_ROOT

EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"

SEVERITIES = {"critical": "ERROR", "warning": "WARN"}
BATCH_KINDS = ("rows", "schema", "daily_volume", "schema_drift", "sql")
# What a failing schema_drift row shows: the file and the column it lacks.
DRIFT_SAMPLE_COLUMNS = ("file", "missing_column", "lines_without_column", "day_rows_loaded")
# What a failing daily_volume day shows beside the failing figure.
VOLUME_SAMPLE_COLUMNS = (
    "files",
    "rows_read",
    "rows_loaded",
    "rows_quarantined",
    "trailing_7d_mean_rows",
    "trailing_7d_median_rows",
    "newest_ts",
)
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
# kwargs of Great Expectations that name the columns an expectation reads.
_COLUMN_KWARGS = ("column", "column_A", "column_B")
_COLUMN_LIST_KWARGS = ("column_list",)


class SuiteError(ValueError):
    """A suite file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class BatchSpec:
    """Where a batch's pandas frame comes from (see batches.py for each kind)."""

    name: str
    kind: str
    table: str | None = None
    per_day: str | None = None  # the arrival-day column: validate the run's days, report per day
    where: str | None = None  # rows: a SQL filter (may use $first / $last, the run's first and last day)
    split_by: str | None = None  # rows, not per day: frames of whole values of this column (e.g. month)
    sample_columns: tuple[str, ...] = ()  # columns shown beside a failing value (keys, lineage)
    sql: str | None = None
    feed: str | None = None
    newest: str | None = None
    min_trailing_rows: int = 0  # daily_volume: no ratio below this trailing figure (too few rows to judge)
    min_quarantined_rows: int = 10  # daily_volume: no quarantined share below this many quarantined lines
    description: str = ""


@dataclass(frozen=True)
class CheckSpec:
    name: str
    description: str
    severities: frozenset[str]  # {"ERROR", "WARN"} of its expectations

    @property
    def blocking(self) -> bool:
        return "ERROR" in self.severities


@dataclass(frozen=True)
class Suite:
    name: str
    path: Path
    asset_key: dg.AssetKey
    description: str
    batches: dict[str, BatchSpec]
    checks: dict[str, CheckSpec]
    expectations: tuple[dict[str, Any], ...] = field(repr=False)

    @property
    def asset_label(self) -> str:
        return self.asset_key.to_user_string()

    def expectations_for(self, batch: str) -> list[dict[str, Any]]:
        return [e for e in self.expectations if e["meta"]["batch"] == batch]

    def columns_for(self, batch: str) -> list[str]:
        """Columns the batch's expectations read, in order of first use."""
        cols: list[str] = []
        for exp in self.expectations_for(batch):
            kwargs = exp["kwargs"]
            names = [kwargs[k] for k in _COLUMN_KWARGS if k in kwargs]
            for k in _COLUMN_LIST_KWARGS:
                names += list(kwargs.get(k) or [])
            cols += [n for n in names if n not in cols]
        return cols

    def to_gx_dict(self, batch: str | None = None) -> dict[str, Any]:
        """The suite (or the part validated on one batch) as `gx.ExpectationSuite` keyword arguments."""
        exps = self.expectations if batch is None else self.expectations_for(batch)
        return {
            "name": self.name if batch is None else f"{self.name}.{batch}",
            "expectations": [dict(e) for e in exps],
            "meta": {"asset": self.asset_label},
        }


def _fail(path: Path, message: str) -> SuiteError:
    return SuiteError(f"{path.name}: {message}")


def _batch(path: Path, name: str, raw: dict[str, Any]) -> BatchSpec:
    kind = raw.get("kind", name)
    if kind not in BATCH_KINDS:
        raise _fail(path, f"batch {name!r} has kind {kind!r}; expected one of {', '.join(BATCH_KINDS)}")
    spec = BatchSpec(
        name=name,
        kind=kind,
        table=raw.get("table"),
        per_day=raw.get("per_day"),
        where=raw.get("where"),
        split_by=raw.get("split_by"),
        sample_columns=tuple(raw.get("sample_columns") or ()),
        sql=raw.get("sql"),
        feed=raw.get("feed"),
        newest=raw.get("newest"),
        min_trailing_rows=int(raw.get("min_trailing_rows") or 0),
        min_quarantined_rows=int(raw.get("min_quarantined_rows", 10)),
        description=(raw.get("description") or "").strip(),
    )
    if kind == "daily_volume":
        spec = replace(
            spec,
            per_day=spec.per_day or "day",
            sample_columns=spec.sample_columns or VOLUME_SAMPLE_COLUMNS,
        )
    if kind == "schema_drift":
        spec = replace(spec, per_day=spec.per_day or "day", sample_columns=spec.sample_columns or DRIFT_SAMPLE_COLUMNS)
    needs = {
        "rows": ("table",), "schema": ("table",), "daily_volume": ("feed",), "schema_drift": ("feed",), "sql": ("sql",)
    }[kind]
    for attr in needs:
        if not getattr(spec, attr):
            raise _fail(path, f"batch {name!r} of kind {kind} needs {attr!r}")
    return spec


def load_suite(path: Path) -> Suite:
    try:
        # libyaml's C loader when present: the pure-Python one costs ~0.3 s per definitions load.
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise _fail(path, f"not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("expectations"), list):
        raise _fail(path, "a suite is a mapping with `name`, `meta` and a list `expectations`")
    name = data.get("name")
    if name != path.stem:
        raise _fail(path, f"the suite name {name!r} must equal the file name {path.stem!r}")
    meta = data.get("meta") or {}
    if not meta.get("asset"):
        raise _fail(path, "meta.asset (the asset key, e.g. raw/orders) is missing")
    batches = {n: _batch(path, n, b or {}) for n, b in (meta.get("batches") or {}).items()}
    check_docs: dict[str, str] = meta.get("checks") or {}
    for check in check_docs:
        if not _NAME_RE.match(check):
            raise _fail(path, f"check name {check!r} must be lower_snake_case")
    severities: dict[str, set[str]] = {c: set() for c in check_docs}
    expectations = []
    for i, exp in enumerate(data["expectations"], start=1):
        where = f"expectation {i} ({exp.get('type', '?')})"
        if not str(exp.get("type", "")).startswith("expect_"):
            raise _fail(path, f"{where}: `type` must be a Great Expectations expectation type")
        if not isinstance(exp.get("kwargs"), dict):
            raise _fail(path, f"{where}: `kwargs` must be a mapping")
        severity = exp.get("severity")
        if severity not in SEVERITIES:
            raise _fail(path, f"{where}: severity must be critical (ERROR, blocking) or warning (WARN)")
        exp_meta = exp.get("meta") or {}
        check, batch = exp_meta.get("check"), exp_meta.get("batch")
        if check not in check_docs:
            raise _fail(path, f"{where}: meta.check {check!r} is not listed under meta.checks")
        if batch not in batches:
            raise _fail(path, f"{where}: meta.batch {batch!r} is not listed under meta.batches")
        severities[check].add(SEVERITIES[severity])
        expectations.append(exp)
    unused = [c for c, s in severities.items() if not s]
    if unused:
        raise _fail(path, f"checks without expectations: {', '.join(unused)}")
    # A suite runs as one Dagster step; a blocking check in it makes that step run before anything
    # downstream of the asset, so its WARN results are recorded before the publish step reads them.
    if not any("ERROR" in s for s in severities.values()):
        raise _fail(path, "a suite needs at least one critical expectation (e.g. its keys)")
    return Suite(
        name=name,
        path=path,
        asset_key=dg.AssetKey(str(meta["asset"]).split("/")),
        description=str(meta.get("description") or "").strip(),
        batches=batches,
        checks={
            c: CheckSpec(c, " ".join(str(d).split()), frozenset(severities[c])) for c, d in check_docs.items()
        },
        expectations=tuple(expectations),
    )


@cache
def load_suites(directory: Path = EXPECTATIONS_DIR) -> tuple[Suite, ...]:
    """Every suite file, sorted by name; one asset has at most one suite."""
    suites = tuple(load_suite(p) for p in sorted(directory.glob("*.yml")))
    seen: dict[dg.AssetKey, str] = {}
    for s in suites:
        if s.asset_key in seen:
            raise SuiteError(
                f"{s.path.name}: asset {s.asset_label} already has the suite {seen[s.asset_key]}"
            )
        seen[s.asset_key] = s.name
    return suites
