"""Dagster asset checks built from the expectation suites: one step per suite, one check per `meta.checks`.

`dagster-ge` pins Great Expectations below 1.0 and pandas below 3, so these are our own
`@multi_asset_check` functions. A check whose suite has a `critical` expectation is blocking: when
it fails with ERROR severity nothing downstream of its asset runs in that run (and so nothing is
published). A failure of `warning` expectations only is recorded with WARN severity and blocks
nothing. Each result carries the failing counts per day and a sample of failing rows as metadata.
"""

from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import date
from typing import TYPE_CHECKING

import dagster as dg
import duckdb
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from dagster_project.partitions import run_days as run_partition_days
from dagster_project.quality.suites import Suite, load_suites

if TYPE_CHECKING:  # validation imports pandas: loaded when a check runs, not with the definitions
    from dagster_project.quality.validation import CheckOutcome
from dagster_project.resources import DuckDBWarehouse

COMPLETED = (AssetCheckExecutionRecordStatus.SUCCEEDED, AssetCheckExecutionRecordStatus.FAILED)
SEVERITY = {"ERROR": dg.AssetCheckSeverity.ERROR, "WARN": dg.AssetCheckSeverity.WARN}


def run_days(context: dg.AssetCheckExecutionContext, con) -> list[date]:
    """The arrival days of the run; without partition tags (a check launched on its own), the newest day loaded."""
    days = run_partition_days(context.run.tags)
    if days:
        return days
    try:
        newest = con.execute("SELECT max(partition_date) FROM raw.ingest_log").fetchone()[0]
    except duckdb.Error:
        newest = None
    return [newest or date.today()]


def error_days(outcome: "CheckOutcome") -> list[str]:
    """Arrival days with a failing critical expectation of the check."""
    days = set()
    for o in outcome.failed:
        if o.severity == "ERROR":
            days |= {d for d in o.unexpected_by_day if len(d) == 10}
    return sorted(days)


def days_still_failing(context: dg.AssetCheckExecutionContext, suite: Suite) -> set[date]:
    """Days whose blocking checks failed at their latest evaluation: they are validated again.

    A failed day stays in raw (the loader wrote it before the check ran) and full-refresh marts read
    all of raw, so a later run must not publish it: its checks keep failing until the day is loaded
    again with good files.
    """
    storage = context.instance.event_log_storage
    days: set[date] = set()
    for name, check in suite.checks.items():
        if not check.blocking:
            continue
        history = storage.get_asset_check_execution_history(dg.AssetCheckKey(suite.asset_key, name), limit=10)
        record = next(
            (r for r in history if r.run_id != context.run.run_id and r.status in COMPLETED and r.event), None
        )
        if record is None or record.status != AssetCheckExecutionRecordStatus.FAILED:
            continue
        evaluation = record.event.dagster_event.event_specific_data
        value = evaluation.metadata.get("error_days")
        for text in str(value.value if value is not None else "").split(","):
            try:
                days.add(date.fromisoformat(text.strip()))
            except ValueError:
                continue
    return days


def accepted_days(con, suite: Suite, outcome: "CheckOutcome", days: list[date]) -> dict:
    """The acceptances that let every blocking day of a failed check through (empty if any day is not)."""
    if outcome.severity != "ERROR":
        return {}
    from dagster_project.quality import acceptances

    judged = error_days(outcome) or ([max(days).isoformat()] if days else [])
    if not judged:
        return {}
    try:
        found = acceptances.matching(con, suite, outcome.check, judged)
    except Exception:  # noqa: BLE001 - an unreadable acceptances file never lets a day through
        return {}
    return found if set(found) == set(judged) else {}


def _failures_table(outcome: "CheckOutcome") -> str:
    from dagster_project.quality.validation import failure_numbers

    lines = ["| expectation | severity | failing | of | where | numbers |", "|---|---|---|---|---|---|"]
    for o in outcome.failed:
        where = ", ".join(f"{d}: {n}" for d, n in sorted(o.unexpected_by_day.items())[:10]) or "-"
        numbers = failure_numbers(o).replace("|", "/")
        lines.append(
            f"| {o.type}({o.column or ''}) | {o.severity} | {o.unexpected:,} | {o.evaluated:,} | "
            f"{where} | {numbers} |"
        )
    return "\n".join(lines)


def check_metadata(outcome: "CheckOutcome", docs_page: str | None) -> dict:
    failed = outcome.failed
    metadata = {
        "summary": outcome.summary,
        "suite": outcome.suite,
        "validated": outcome.scope,
        "expectations": len(outcome.expectations),
        "failing_expectations": len(failed),
        "failing_rows": sum(o.unexpected for o in failed),
        "failing_days": ", ".join(sorted({d for o in failed for d in o.unexpected_by_day})) or "-",
        "error_days": ",".join(error_days(outcome)),
    }
    if failed:
        metadata["failures"] = dg.MetadataValue.md(_failures_table(outcome))
        metadata["sample_failing_rows"] = dg.MetadataValue.json(
            {f"{o.position}:{o.type}({o.column or ''})": o.samples for o in failed}
        )
    if docs_page:
        metadata["data_docs"] = dg.MetadataValue.path(docs_page)
    return metadata


def _write_docs(context, suite: Suite, outcomes: "list[CheckOutcome]") -> str | None:
    try:
        from dagster_project.quality.data_docs import record_validation

        return str(record_validation(suite, outcomes, run_id=context.run.run_id))
    except Exception as exc:  # noqa: BLE001 - the docs must never decide a gate
        context.log.warning(f"Data Docs for {suite.name} not written: {exc}")
        return None


def build_suite_check(suite: Suite) -> dg.AssetChecksDefinition:
    specs = [
        dg.AssetCheckSpec(
            name=check.name,
            asset=suite.asset_key,
            blocking=check.blocking,
            description=f"{check.description} [{'ERROR, blocking' if check.blocking else 'WARN'}; "
            f"suite expectations/{suite.path.name}]",
            metadata={"suite": suite.name, "severity": "ERROR" if check.blocking else "WARN"},
        )
        for check in suite.checks.values()
    ]

    @dg.multi_asset_check(
        name=f"quality_{suite.name}",
        specs=specs,
        description=f"Great Expectations suite expectations/{suite.path.name} on {suite.asset_label}.",
    )
    def _suite_check(context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse) -> Iterable:
        with warehouse.connect(read_only=True) as con:
            days = run_days(context, con)
            if any(b.per_day for b in suite.batches.values()):
                days = sorted(set(days) | days_still_failing(context, suite))
            from dagster_project.quality.validation import check_outcomes, validate_suite

            outcomes = check_outcomes(suite, validate_suite(con, suite, days), days)
            accepted = {o.check: accepted_days(con, suite, o, days) for o in outcomes if not o.passed}
        docs_page = _write_docs(context, suite, outcomes)
        for outcome in outcomes:
            metadata = check_metadata(outcome, docs_page)
            severity, summary = outcome.severity, outcome.summary
            used = accepted.get(outcome.check) or {}
            if severity == "ERROR" and used:
                # every blocking day of the check was reviewed and accepted, on the data as it is now
                severity = "WARN"
                summary = f"Accepted ({'; '.join(f'{d}: {a.reason}' for d, a in sorted(used.items()))}): {summary}"
                metadata["error_days"] = ""
                metadata["summary"] = summary
                metadata["acceptances"] = dg.MetadataValue.json([asdict(a) for a in used.values()])
            if not outcome.passed:
                log = context.log.error if severity == "ERROR" else context.log.warning
                log(summary)
            yield dg.AssetCheckResult(
                check_name=outcome.check,
                asset_key=suite.asset_key,
                passed=outcome.passed,
                severity=SEVERITY[severity],
                description=summary,
                metadata=metadata,
            )

    return _suite_check


def build_quality_checks(
    assets: Sequence[dg.AssetsDefinition | dg.AssetSpec],
) -> list[dg.AssetChecksDefinition]:
    """One multi-asset check per suite whose asset is among `assets` (suites of marts not built yet wait)."""
    keys: set[dg.AssetKey] = set()
    for a in assets:
        keys |= set(a.keys) if isinstance(a, dg.AssetsDefinition) else {a.key}
    return [build_suite_check(s) for s in load_suites() if s.asset_key in keys]
