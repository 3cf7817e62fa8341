"""Monthly report assets, their job and schedule (filled in by issue 8)."""

import dagster as dg

report_assets: list[dg.AssetsDefinition] = []
report_jobs: list = []
report_schedules: list[dg.ScheduleDefinition] = []
