"""Monthly report assets, their job and schedule, and `build_reports` for the command line.

One monthly partition = both HTML reports of that month, read from the published serving database
only (never the warehouse): `$SALESMP_SITE/reports/YYYY-MM/{channel_efficiency,customer_value}.html`.
"""

import os
from datetime import date, datetime
from pathlib import Path

import dagster as dg

from dagster_project.config import PLATFORM_OWNERS, load_settings
from dagster_project.errors import UserError
from dagster_project.publish.assets import PUBLISH_KEY

REPORTS_KEY = dg.AssetKey(["reports", "monthly_reports"])
REPORTS_JOB = "salesmp_reports"
REPORT_NAMES = ("channel_efficiency", "customer_value")

_settings = load_settings()

# end_offset=1: the current month is a partition too (a month-to-date report can be built).
monthly_partitions = dg.MonthlyPartitionsDefinition(
    start_date=_settings.partitions_start.replace(day=1).isoformat(),
    timezone=_settings.tz,
    end_offset=1,
)


def report_paths(site: Path, month: date) -> list[Path]:
    return [site / "reports" / f"{month:%Y-%m}" / f"{name}.html" for name in REPORT_NAMES]


@dg.asset(
    key=REPORTS_KEY,
    group_name="reports",
    deps=[PUBLISH_KEY],
    partitions_def=monthly_partitions,
    owners=PLATFORM_OWNERS,
    kinds={"plotly", "html"},
    tags={"layer": "reports"},
    description=(
        "The monthly channel-efficiency report (funnels, CAC against CLV with the 30% line, ROI ranking "
        "with the top 20%, channel conflict, KPI scorecard, complaint SLAs) and the customer-value white "
        "paper (RFM segments, tiers, loyalty, churn warning and revenue at risk, NPS trend with margins "
        "of error), each with a summary of what changed since the previous month. Self-contained HTML "
        "(plotly.js inline, no network) in $SALESMP_SITE/reports/YYYY-MM/, read from the serving "
        "database only."
    ),
)
def monthly_reports(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings = load_settings()
    month = date.fromisoformat(context.partition_key)
    if not settings.serving.is_file():
        raise dg.Failure(
            description=f"The serving database {settings.serving} does not exist yet; publish the marts with "
            "`salesmp run` before building the reports."
        )
    # pandas and Plotly load when a report is built, not with the definitions.
    from dagster_project.reports.month_data import read_month
    from dagster_project.reports.pages import write_reports

    data = read_month(settings.serving, month)
    paths = write_reports(data, settings.site)
    if not data.has_data:
        context.log.warning(f"No data published for {month:%Y-%m}: both reports say so and have no charts.")
    return dg.MaterializeResult(
        metadata={
            **{name: dg.MetadataValue.path(str(path)) for name, path in paths.items()},
            "month": f"{month:%Y-%m}",
            "has_data": data.has_data,
            "as_of_date": str(data.as_of) if data.as_of else "-",
            "serving_build_id": data.build_id or "-",
            "bytes": sum(p.stat().st_size for p in paths.values()),
        }
    )


reports_job = dg.define_asset_job(
    name=REPORTS_JOB,
    selection=dg.AssetSelection.groups("reports"),
    executor_def=dg.in_process_executor,
    description="Build the monthly channel-efficiency report and customer-value white paper of one month.",
)


@dg.schedule(
    name="monthly_reports_schedule",
    job=reports_job,
    cron_schedule="0 6 2 * *",
    execution_timezone=_settings.tz,
    description="On the 2nd of each month at 06:00 local time, the reports of the previous month.",
)
def monthly_reports_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    from dagster_project.reports.month_data import previous_month

    month = previous_month(context.scheduled_execution_time.date())
    return dg.RunRequest(run_key=f"reports-{month:%Y-%m}", partition_key=month.isoformat())


report_assets: list[dg.AssetsDefinition] = [monthly_reports]
report_jobs: list = [reports_job]
report_schedules: list[dg.ScheduleDefinition] = [monthly_reports_schedule]


class ReportsFailed(Exception):
    """A report run failed (a bug or a broken serving file, not the arguments); one sentence."""


def _failure_sentence(result: dg.ExecuteInProcessResult) -> str:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data is not None:
            error = event.step_failure_data.user_failure_data
            if error is not None and error.description:
                return error.description
            if event.step_failure_data.error is not None:
                return event.step_failure_data.error.message.strip().splitlines()[-1]
    return f"the reports run {result.run_id} failed."


def build_reports(first_month: date, last_month: date, instance: dg.DagsterInstance | None = None) -> list[Path]:
    """Materialize the monthly report partitions first_month..last_month (one run per month) through
    the `salesmp_reports` job, on `instance` or DAGSTER_HOME's instance (so the runs show in the UI).
    Returns the paths of the HTML files. Raises UserError (one sentence) for months outside the
    partitions or a serving database not published yet, ReportsFailed when a month's run fails."""
    first, last = first_month.replace(day=1), last_month.replace(day=1)
    if first > last:
        raise UserError(f"The first report month {first:%Y-%m} is after the last {last:%Y-%m}.")
    keys = monthly_partitions.get_partition_keys(current_time=datetime.now())
    wanted = [k for k in keys if first.isoformat() <= k <= last.isoformat()]
    if not keys or first.isoformat() < keys[0] or last.isoformat() > keys[-1]:
        raise UserError(
            f"Report months must lie between {keys[0][:7]} and {keys[-1][:7]}; got {first:%Y-%m}..{last:%Y-%m}."
        )
    settings = load_settings()
    if not settings.serving.is_file():
        raise UserError(
            f"The serving database {settings.serving} does not exist yet; publish the marts with "
            "`salesmp run` before building the reports."
        )
    job = dg.Definitions(assets=report_assets, jobs=report_jobs).resolve_job_def(REPORTS_JOB)
    own_instance = instance is None
    if own_instance:
        instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    paths: list[Path] = []
    try:
        for key in wanted:
            result = job.execute_in_process(
                partition_key=key,
                instance=instance,
                raise_on_error=False,
                run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
            )
            if not result.success:
                raise ReportsFailed(f"The reports of {key[:7]} failed: {_failure_sentence(result)}")
            paths.extend(report_paths(settings.site, date.fromisoformat(key)))
    finally:
        if own_instance:
            instance.dispose()
    return paths
