"""The dbt project as Dagster assets: every model and seed, downstream of the raw feeds.

The manifest is prepared at build time (`make` runs `dbt parse`; `dagster dev` prepares it through
prepare_if_dev); loading the definitions never parses the dbt project.
"""

import contextlib
import json
import shutil
import sys
import time
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from dagster_project import pii_key
from dagster_project.config import DBT_PROFILES_DIR, DBT_PROJECT_DIR, load_settings
from dagster_project.errors import UserError
from dagster_project.partitions import run_days
from dagster_project.sql import table_exists
from dagster_project.transform.dbt_vars import dbt_vars

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROFILES_DIR)
dbt_project.prepare_if_dev()

if not dbt_project.manifest_path.exists():
    raise UserError(
        f"The dbt manifest {dbt_project.manifest_path} is missing; run `make install` or "
        "`dbt parse --profiles-dir dbt` (from the repository root) first."
    )

# Every dbt invocation writes its artifacts into target/salesmp_dbt-<id> (~17 MB): the newest few are kept
# for debugging a recent run, the older ones are removed after each invocation.
KEEP_TARGET_RUNS = 5

LAYER_GROUPS = {"staging": "staging", "core": "core", "intermediate": "intermediate", "marts": "marts"}


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
        # Owners come from the dbt meta (dbt_project.yml), which the base translator reads.
        return base.replace_attributes(key=dg.AssetKey([props["name"]]), group_name=group).merge_attributes(
            kinds={"dbt", "duckdb"}, tags={"layer": group}
        )


translator = SalesmpDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def dbt_env() -> dict[str, str]:
    """The environment of a dbt subprocess started by hand (`dbt docs generate`): the same absolute
    paths and time zone as the Dagster process. The dbt assets pass the same as vars (dbt_vars.py)."""
    settings = load_settings()
    return {
        "SALESMP_WAREHOUSE": str(settings.warehouse),
        "SALESMP_TZ": settings.tz,
        "SALESMP_DUCKDB_MEMORY_LIMIT": settings.duckdb_memory_limit,
        "SALESMP_DBT_THREADS": str(settings.duckdb_threads),
    }


def latest_loaded_day(settings) -> date | None:
    """The latest partition in raw.ingest_log, None before the first load."""
    from dagster_project.resources import connect_duckdb

    if not settings.warehouse.exists():
        return None
    con = connect_duckdb(settings.warehouse, tz=settings.tz, memory_limit="256MB", threads=1, read_only=True)
    try:
        if not table_exists(con, "raw", "ingest_log"):
            return None
        return con.execute("SELECT max(partition_date) FROM raw.ingest_log").fetchone()[0]
    finally:
        con.close()


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
    settings = load_settings()
    pii_key.preflight(settings.warehouse, tz=settings.tz)  # one sentence, before dbt, on a refused key
    latest = latest_loaded_day(settings) if days else None
    run_vars = dbt_vars(settings, days, latest)
    if latest and days and latest > max(days):
        context.log.info(f"Window extended to {latest}, the latest day loaded, so the marts stay as of it.")
    # Unit tests check formulas on fixed rows, not data: `make test` runs them, daily runs skip them.
    args = ["build", "--exclude-resource-type", "unit_test", "--vars", json.dumps(run_vars)]
    invocation = dbt.cli(args, context=context)
    try:
        yield from invocation.stream()
    except Exception as exc:
        disk_full = disk_full_cause(invocation.target_path, exc)
        if disk_full:
            from dagster_project.resources import disk_full_error

            raise disk_full_error(settings.warehouse, OSError(disk_full)) from exc
        raise
    finally:
        prune_target_runs(invocation.target_path.parent)
    checkpoint_warehouse(settings)


def disk_full_cause(target_path: Path, exc: BaseException) -> str | None:
    """The first line a failed dbt invocation wrote that says the disk is full (its error, its run results,
    its log), None when none says so."""
    texts = [str(exc)]
    try:
        results = json.loads((target_path / "run_results.json").read_text(encoding="utf-8")).get("results", [])
        texts += [str(r.get("message") or "") for r in results]
    except (OSError, ValueError, AttributeError):
        pass
    with contextlib.suppress(OSError):
        texts.append((target_path / "dbt.log").read_text(encoding="utf-8", errors="replace")[-200_000:])
    for text in texts:
        for line in text.splitlines():
            if "No space left" in line or "ENOSPC" in line:
                return line.strip()[:300]
    return None


def checkpoint_warehouse(settings) -> None:
    """dbt closed its connection; make sure what it wrote is in the database file (a full disk fails here)."""
    from dagster_project.resources import checkpoint, connect_duckdb, disk_full_error, is_disk_full

    try:
        con = connect_duckdb(
            settings.warehouse, tz=settings.tz, memory_limit=settings.duckdb_memory_limit, threads=1
        )
    except UserError as exc:
        if is_disk_full(exc):
            raise disk_full_error(settings.warehouse, exc) from exc
        raise
    try:
        checkpoint(con, settings.warehouse)
    except UserError:
        with contextlib.suppress(duckdb.Error):  # the checkpoint's error is the one to tell
            con.close()
        raise
    con.close()


def prune_target_runs(target: Path, keep: int = KEEP_TARGET_RUNS, min_age_seconds: float = 600) -> list[Path]:
    """Remove all but the `keep` newest salesmp_dbt-* invocation folders under dbt's target; the removed ones.
    A folder changed in the last `min_age_seconds` is kept whatever its rank: it may belong to a dbt
    invocation of another process still running on the same checkout."""
    runs = sorted(
        (p for p in target.glob("salesmp_dbt-*") if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True
    )
    now = time.time()
    removed = [old for old in runs[keep:] if now - old.stat().st_mtime >= min_age_seconds]
    for old in removed:
        shutil.rmtree(old, ignore_errors=True)
    return removed


# The venv's own dbt, so runs work whether or not the venv's bin is on PATH.
_venv_dbt = Path(sys.executable).parent / "dbt"
dbt_resource = DbtCliResource(
    project_dir=dbt_project,
    profiles_dir=str(DBT_PROFILES_DIR),
    dbt_executable=str(_venv_dbt) if _venv_dbt.exists() else "dbt",
)
