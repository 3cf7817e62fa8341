"""salesmp: the sales-customer data mid-platform (Dagster + dbt + DuckDB)."""

import warnings

# Dagster marks backfill_policy and a few other settings we rely on as beta; they are deliberate.
warnings.filterwarnings("ignore", message=r".*is currently in (beta|preview).*")
