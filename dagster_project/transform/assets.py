"""The dbt project as Dagster assets: every model and seed, downstream of the raw feeds.

The manifest is prepared at build time (`make` runs `dbt parse`; `dagster dev` prepares it through
prepare_if_dev); loading the definitions never parses the dbt project.
"""

import json
import os
import sys
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from dagster_project import pii_key
from dagster_project.config import DBT_PROJECT_DIR, load_settings
from dagster_project.errors import UserError
from dagster_project.partitions import run_days

OWNER = "team:data-platform"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()

if not dbt_project.manifest_path.exists():
    raise UserError(
        f"The dbt manifest {dbt_project.manifest_path} is missing; run `make install` or "
        "`cd dbt && dbt parse --profiles-dir .` first."
    )

LAYER_GROUPS = {"staging": "staging", "intermediate": "intermediate", "marts": "marts"}


class SalesmpDbtTranslator(DagsterDbtTranslator):
    """Keys, groups, owners and kinds of every dbt node in one place."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None):
        base = super().get_asset_spec(manifest, unique_id, project)
        props = manifest["sources"].get(unique_id) or manifest["nodes"].get(unique_id) or {}
        resource_type = props.get("resource_type")
        if resource_type == "source":
            return base.replace_attributes(key=dg.AssetKey([props["source_name"], props["name"]]))
        if resource_type == "seed":
            group = "seeds"
        else:
            folder = (props.get("fqn") or ["", "other"])[1]
            group = LAYER_GROUPS.get(folder, "marts")
        return base.replace_attributes(key=dg.AssetKey([props["name"]]), group_name=group).merge_attributes(
            owners=[OWNER], kinds={"dbt", "duckdb"}, tags={"layer": group}
        )


translator = SalesmpDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def dbt_env() -> dict[str, str]:
    """dbt runs from dbt/; hand it the same absolute paths and time zone as the Dagster process."""
    settings = load_settings()
    return {
        "SALESMP_WAREHOUSE": str(settings.warehouse),
        "SALESMP_TZ": settings.tz,
        "SALESMP_DUCKDB_MEMORY_LIMIT": settings.duckdb_memory_limit,
        "SALESMP_DBT_THREADS": str(settings.duckdb_threads),
    }


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=translator,
    name="salesmp_dbt",
)
def salesmp_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """One `dbt build` over the run's arrival window (a backfill is one dbt invocation).

    The models are unpartitioned (see partitions.py); the window comes from the run's partition tags
    and becomes the `min_date`/`max_date` vars the incremental models read. A run without partition
    tags (a model materialized on its own) reads every arrival.
    """
    days = run_days(context.run.tags)
    args = ["build", "--exclude-resource-type", "unit_test"]
    if days:
        window = {"min_date": days[0].isoformat(), "max_date": (days[-1] + timedelta(days=1)).isoformat()}
        args += ["--vars", json.dumps(window)]  # max_date is exclusive
    os.environ.update(dbt_env())
    settings = load_settings()
    pii_key.preflight(settings.warehouse, tz=settings.tz)  # one sentence, before dbt, on a refused key
    # Unit tests check formulas on fixed rows, not data: `make test` runs them, daily runs skip them.
    yield from dbt.cli(args, context=context).stream()


# The venv's own dbt, so runs work whether or not the venv's bin is on PATH.
_venv_dbt = Path(sys.executable).parent / "dbt"
dbt_resource = DbtCliResource(
    project_dir=dbt_project,
    profiles_dir=str(DBT_PROJECT_DIR),
    dbt_executable=str(_venv_dbt) if _venv_dbt.exists() else "dbt",
)
