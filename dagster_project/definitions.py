"""The one Dagster `Definitions` of the project (`[tool.dagster] module_name`)."""

from __future__ import annotations

import dagster as dg

from dagster_project.bi.assets import bi_assets
from dagster_project.config import load_settings
from dagster_project.docs_site.assets import docs_assets
from dagster_project.freshness import PUBLISH_ASSET, delivery_specs, freshness_windows
from dagster_project.ingest.assets import raw_assets, raw_bookkeeping_specs
from dagster_project.ingest.sensors import build_automation
from dagster_project.publish.assets import build_publish_asset
from dagster_project.quality.checks import build_quality_checks
from dagster_project.reports.assets import report_assets, report_jobs, report_schedules
from dagster_project.resources import DuckDBWarehouse
from dagster_project.transform.assets import dbt_resource, salesmp_dbt_assets

settings = load_settings()
# When each feed and the published marts count as late (seeds/feed_freshness.csv, SALESMP_FRESHNESS).
freshness = freshness_windows()

# One job over every daily asset (the monthly reports have their own job). In-process execution:
# DuckDB allows one writing process per file, so the steps of a run must not run in parallel processes.
pipeline_job = dg.define_asset_job(
    name="salesmp_pipeline",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("reports"),
    executor_def=dg.in_process_executor,
    description="Ingest the landing zone, build the dbt marts, run the gates and publish.",
)

landing_zone_sensor, daily_yesterday_schedule = build_automation(pipeline_job)

built_assets = [*raw_assets, salesmp_dbt_assets]

defs = dg.Definitions(
    assets=[
        *delivery_specs(freshness),
        *built_assets,
        *raw_bookkeeping_specs,
        *dg.map_asset_specs(
            lambda spec: dg.apply_freshness_policy(spec, freshness[PUBLISH_ASSET].policy()),
            [build_publish_asset(built_assets)],
        ),
        *docs_assets,
        *bi_assets,
        *report_assets,
    ],
    asset_checks=build_quality_checks(built_assets),
    jobs=[pipeline_job, *report_jobs],
    sensors=[landing_zone_sensor],
    schedules=[daily_yesterday_schedule, *report_schedules],
    executor=dg.in_process_executor,
    resources={
        "dbt": dbt_resource,
        "warehouse": DuckDBWarehouse(
            path=str(settings.warehouse),
            tz=settings.tz,
            memory_limit=settings.duckdb_memory_limit,
            threads=settings.duckdb_threads,
        ),
    },
)
