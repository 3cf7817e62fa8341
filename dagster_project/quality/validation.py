"""Validate a suite with Great Expectations over pandas frames and turn the results into check outcomes.

One ephemeral GE context per process (no files, no stores, no analytics): a pandas data source with
one dataframe asset, and each frame is validated against the part of the suite that reads its
batch. A batch validated in several frames (a long backfill) is merged back into one result per
expectation with its failing count per arrival day and a few failing rows.
"""

from __future__ import annotations

import logging
import math
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any

import duckdb
import pandas as pd

from dagster_project.quality.batches import Frame, frames
from dagster_project.quality.suites import SEVERITIES, Suite

# GE 1.x sends usage statistics unless told not to; this machine has no route out anyway.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

SAMPLE_ROWS = 5


@cache
def _batch_definition():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    for name in ("great_expectations", "great_expectations.core", "great_expectations.expectations"):
        logging.getLogger(name).setLevel(logging.ERROR)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("salesmp").add_dataframe_asset("frame")
    return gx, asset.add_batch_definition_whole_dataframe("whole")


def _plain(value: Any) -> Any:
    """A JSON-friendly version of a value from pandas / numpy / GE."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return (
            value.date().isoformat() if value == value.normalize() and value.tz is None else value.isoformat()
        )
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, list | dict):
        try:
            return _plain(value.item())
        except (ValueError, TypeError):
            return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, int | float | str | bool):
        return value
    return str(value)


def _day_of(value: Any) -> str | None:
    value = _plain(value)
    return str(value)[:10] if value else None


@dataclass
class ExpectationOutcome:
    """The merged result of one expectation of a suite over every frame of its batch."""

    position: int  # 1-based position in the suite file
    check: str
    severity: str  # ERROR or WARN
    type: str
    kwargs: dict[str, Any]
    description: str
    batch: str
    batch_kind: str
    per_day: str | None
    context: tuple[str, ...] = ()  # the sample columns its sentence shows beside its own (meta.context); all if empty
    success: bool = True
    evaluated: int = 0
    unexpected: int = 0
    unexpected_by_day: Counter = field(default_factory=Counter)
    failed_frames: list[str] = field(default_factory=list)
    observed: list[Any] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    @property
    def column(self) -> str | None:
        kw = self.kwargs
        if kw.get("column_B"):  # a pair `A >= B`: B is the day's figure, A its limit
            return kw["column_B"]
        return kw.get("column") or (", ".join(kw["column_list"]) if kw.get("column_list") else None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "check": self.check,
            "severity": self.severity,
            "type": self.type,
            "kwargs": _plain(self.kwargs),
            "description": self.description,
            "batch": self.batch,
            "success": self.success,
            "evaluated": self.evaluated,
            "unexpected": self.unexpected,
            "unexpected_by_day": dict(sorted(self.unexpected_by_day.items())),
            "failed_frames": self.failed_frames,
            "observed": _plain(self.observed[:SAMPLE_ROWS]),
            "samples": _plain(self.samples),
            "error": self.error,
        }


def _merge(outcome: ExpectationOutcome, frame: Frame, result) -> None:
    info = result.exception_info or {}
    if info.get("raised_exception"):
        outcome.success = False
        outcome.error = (info.get("exception_message") or "the expectation raised an error").splitlines()[0]
        outcome.failed_frames.append(frame.label)
        return
    res = result.result or {}
    outcome.evaluated += int(res.get("element_count") or len(frame.df))
    if result.success:
        return
    outcome.success = False
    outcome.failed_frames.append(frame.label)
    if "observed_value" in res:
        outcome.observed.append({"frame": frame.label, "observed_value": _plain(res["observed_value"])})
    count = int(res.get("unexpected_count") or 0)
    outcome.unexpected += count
    index_list = res.get("unexpected_index_list") or []
    if outcome.per_day and index_list and isinstance(index_list[0], dict):
        outcome.unexpected_by_day.update(_day_of(row.get(outcome.per_day)) for row in index_list)
    elif frame.days and count:
        outcome.unexpected_by_day[frame.label] += count
    room = SAMPLE_ROWS - len(outcome.samples)
    if room > 0:
        rows = [r for r in index_list if isinstance(r, dict)][:room]
        if not rows:
            rows = [{outcome.column or "value": v} for v in (res.get("partial_unexpected_list") or [])[:room]]
        outcome.samples += [_plain(r) for r in rows]


def _result_format(suite: Suite, batch_name: str, frame: Frame) -> dict[str, Any]:
    batch = suite.batches[batch_name]
    index = [
        c
        for c in dict.fromkeys([*([batch.per_day] if batch.per_day else []), *batch.sample_columns])
        if c in frame.df.columns
    ]
    fmt: dict[str, Any] = {
        "result_format": "COMPLETE",
        "partial_unexpected_count": SAMPLE_ROWS,
        "return_unexpected_index_query": False,
    }
    if index:
        fmt["unexpected_index_column_names"] = index
    return fmt


def validate_suite(
    con: duckdb.DuckDBPyConnection, suite: Suite, days: list[date]
) -> list[ExpectationOutcome]:
    """Validate every batch of the suite for the run's arrival days; one outcome per expectation."""
    gx, batch_definition = _batch_definition()
    outcomes: list[ExpectationOutcome] = []
    for batch_name, batch in suite.batches.items():
        exps = [(i, e) for i, e in enumerate(suite.expectations, start=1) if e["meta"]["batch"] == batch_name]
        if not exps:
            continue
        mine = [
            ExpectationOutcome(
                position=i,
                check=e["meta"]["check"],
                severity=SEVERITIES[e["severity"]],
                type=e["type"],
                kwargs=dict(e["kwargs"]),
                description=" ".join(str(e.get("description") or "").split()),
                batch=batch_name,
                batch_kind=batch.kind,
                per_day=batch.per_day,
                context=tuple(e["meta"].get("context") or ()),
            )
            for i, e in exps
        ]
        gx_exps = [{**e, "meta": {**e["meta"], "salesmp_position": i}} for i, e in exps]
        gx_suite = gx.ExpectationSuite(name=f"{suite.name}.{batch_name}", expectations=gx_exps)
        by_position = {o.position: o for o in mine}
        try:
            for frame in frames(con, suite, batch, days):
                gx_batch = batch_definition.get_batch(batch_parameters={"dataframe": frame.df})
                validation = gx_batch.validate(
                    gx_suite, result_format=_result_format(suite, batch_name, frame)
                )
                for result in validation.results:
                    _merge(by_position[result.expectation_config.meta["salesmp_position"]], frame, result)
        except duckdb.Error as exc:  # the batch cannot be built (a missing table, a broken query)
            for o in mine:
                o.success = False
                o.error = f"batch {batch_name}: {str(exc).splitlines()[0]}"
        outcomes += mine
    return sorted(outcomes, key=lambda o: o.position)


# --------------------------------------------------------------------------------------------------
# Check outcomes: the expectations of one Dagster check, with one sentence for a failure.
# --------------------------------------------------------------------------------------------------


def fmt_number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if math.isnan(value):
        return "NULL"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def expected_text(kwargs: dict[str, Any]) -> str:
    """What the expectation allows, from its kwargs (`between 0.5 and 3`, `in {a, b}`, ...)."""
    lo, hi = kwargs.get("min_value"), kwargs.get("max_value")
    if lo is not None or hi is not None:
        lo_op = ">" if kwargs.get("strict_min") else ">="
        hi_op = "<" if kwargs.get("strict_max") else "<="
        if lo is not None and hi is not None:
            return f"{lo_op} {fmt_number(lo)} and {hi_op} {fmt_number(hi)}"
        return f"{lo_op} {fmt_number(lo)}" if lo is not None else f"{hi_op} {fmt_number(hi)}"
    if "value_set" in kwargs:
        return "in {" + ", ".join(map(str, kwargs["value_set"])) + "}"
    if "column_A" in kwargs:
        return f"{'<=' if kwargs.get('or_equal') else '<'} {kwargs['column_A']}"
    if "value" in kwargs:
        return f"= {fmt_number(kwargs['value'])}"
    if "column_set" in kwargs:
        return "columns " + ", ".join(kwargs["column_set"])
    if "regex" in kwargs:
        return f"matching /{kwargs['regex']}/"
    return "as the suite says"


def _what(o: ExpectationOutcome) -> str:
    if o.description:
        return o.description
    return f"{o.type}({o.column})" if o.column else o.type


def failure_numbers(o: ExpectationOutcome) -> str:
    """The numbers of one failing expectation, in words."""
    if o.error:
        return f"could not be evaluated ({o.error})"
    allowed = expected_text(o.kwargs)
    if o.batch_kind in ("sql", "daily_volume", "schema_drift") and o.samples:
        shown = []
        for k, row in enumerate(o.samples[:3]):
            day = row.get(o.per_day) if o.per_day else None
            value = row.get(o.column) if o.column else None
            text = f"{day}: {o.column} = {fmt_number(value)}" if day else f"{o.column} = {fmt_number(value)}"
            context = [
                f"{c} {fmt_number(v)}"
                for c, v in row.items()
                if c not in (o.per_day, o.column) and (not o.context or c in o.context)
            ]
            if k == 0 and context:
                text += f" ({', '.join(context)})"
            shown.append(text)
        more = len(o.unexpected_by_day) - len(shown)
        tail = f" and {more} more day(s)" if more > 0 else ""
        return f"{'; '.join(shown)}{tail} (expected {allowed})"
    if o.unexpected:
        where = ""
        if o.unexpected_by_day:
            days = sorted(o.unexpected_by_day)
            where = f" on {len(days)} day(s) ({days[0]}" + (f" .. {days[-1]})" if len(days) > 1 else ")")
        example = ""
        if o.samples and o.column and o.column in o.samples[0]:
            example = f", e.g. {o.column} = {o.samples[0][o.column]}"
        return f"{o.unexpected:,} of {o.evaluated:,} rows{where} not {allowed}{example}"
    if o.observed:
        first = o.observed[0]
        return f"observed {fmt_number(first['observed_value'])} ({first['frame']}), expected {allowed}"
    return f"failed on {', '.join(o.failed_frames[:3])}"


@dataclass
class CheckOutcome:
    suite: str
    asset: str
    check: str
    description: str
    blocking: bool
    expectations: list[ExpectationOutcome]
    days: list[date]

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [o for o in self.expectations if not o.success]

    @property
    def passed(self) -> bool:
        return not self.failed

    @property
    def severity(self) -> str:
        """The severity of a failure: ERROR when a failing expectation is critical, else WARN."""
        return "ERROR" if any(o.severity == "ERROR" for o in self.failed) else "WARN"

    @property
    def summary(self) -> str:
        if self.passed:
            return f"{len(self.expectations)} expectation(s) passed on {self.asset} ({self.scope})."
        worst = sorted(self.failed, key=lambda o: (o.severity != "ERROR", o.position))
        first = worst[0]
        more = f" (and {len(worst) - 1} more failing expectation(s))" if len(worst) > 1 else ""
        return (
            f"Check {self.check} on {self.asset} failed ({self.severity}): "
            f"{_what(first)}: {failure_numbers(first)}{more}."
        )

    @property
    def scope(self) -> str:
        if not self.days:
            return "whole table"
        return self.days[0].isoformat() if len(self.days) == 1 else f"{self.days[0]}..{self.days[-1]}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "asset": self.asset,
            "check": self.check,
            "description": self.description,
            "blocking": self.blocking,
            "passed": self.passed,
            "severity": self.severity,
            "summary": self.summary,
            "scope": self.scope,
            "expectations": [o.to_dict() for o in self.expectations],
        }


def check_outcomes(suite: Suite, outcomes: list[ExpectationOutcome], days: list[date]) -> list[CheckOutcome]:
    uses_days = any(b.per_day for b in suite.batches.values())
    return [
        CheckOutcome(
            suite=suite.name,
            asset=suite.asset_label,
            check=name,
            description=spec.description,
            blocking=spec.blocking,
            expectations=[o for o in outcomes if o.check == name],
            days=days if uses_days else [],
        )
        for name, spec in suite.checks.items()
    ]
