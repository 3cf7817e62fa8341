"""The `docs/dbt_docs` asset: the dbt docs site (lineage docs for analysts) after each publish.

`dbt docs generate` runs against the warehouse into a target folder of its own (target/ holds the
manifest the Dagster definitions load). index.html, manifest.json, catalog.json and the column-level
lineage of the marts are copied into a new build folder under $SALESMP_SITE, and the symbolic link
$SALESMP_SITE/docs is switched to it in one rename, so a reader never sees a half-written site.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import dagster as dg

from dagster_project.config import DBT_PROFILES_DIR, DBT_PROJECT_DIR, DBT_TARGET_DIR, PLATFORM_OWNERS, load_settings
from dagster_project.publish.assets import PUBLISH_KEY
from dagster_project.transform.assets import dbt_env

DOCS_KEY = dg.AssetKey(["docs", "dbt_docs"])
SITE_FILES = ("index.html", "manifest.json", "catalog.json")
LINEAGE_FILE = "column_lineage.json"
BUILDS_FOLDER = ".docs_builds"
SOURCE_KEY_FILE = ".source_key"


def project_key() -> str:
    """What the site is generated from: the dbt manifest prepared at build time (models, docs,
    exposures, compiled SQL). The built relations follow from it (the marts have contracts)."""
    return hashlib.sha256((DBT_TARGET_DIR / "manifest.json").read_bytes()).hexdigest()


def site_is_current(site: Path, key: str) -> bool:
    docs = site / "docs"
    try:
        return (docs / SOURCE_KEY_FILE).read_text() == key and all((docs / n).exists() for n in SITE_FILES)
    except OSError:
        return False


def run_dbt_docs_generate(target: Path) -> None:
    """`dbt docs generate` (compiles every model, reads the warehouse's catalog) into `target`."""
    venv_dbt = Path(sys.executable).parent / "dbt"
    command = [
        str(venv_dbt) if venv_dbt.exists() else "dbt",
        "docs",
        "generate",
        "--project-dir", str(DBT_PROJECT_DIR),
        "--profiles-dir", str(DBT_PROFILES_DIR),
        "--target-path", str(target),
        "--log-path", str(target),
    ]  # fmt: skip
    # A copy of the build's partial-parse state spares a full parse; dbt discards it when stale.
    partial = DBT_TARGET_DIR / "partial_parse.msgpack"
    if partial.exists():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(partial, target / partial.name)
    result = subprocess.run(
        command,
        cwd=DBT_PROJECT_DIR,
        # Without usage statistics the generated page loads no tracking script from the network.
        env={**os.environ, **dbt_env(), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise dg.Failure(description=f"`dbt docs generate` failed (exit {result.returncode}):\n{tail}")


def swap_in(site: Path, build: Path) -> Path:
    """Point site/docs at `build` with one atomic rename of a symbolic link; drop older builds."""
    docs = site / "docs"
    link = site / f".docs.{os.getpid()}.link"
    link.unlink(missing_ok=True)
    link.symlink_to(build.relative_to(site), target_is_directory=True)
    if docs.is_dir() and not docs.is_symlink():  # a plain folder from elsewhere: move it aside once
        shutil.rmtree(docs)
    os.replace(link, docs)
    for old in (site / BUILDS_FOLDER).iterdir():
        if old != build:
            shutil.rmtree(old, ignore_errors=True)
    return docs


CACHE_FOLDER = DBT_TARGET_DIR / "docs_site_cache"


def catalog_key(warehouse: Path, key: str) -> str | None:
    """What `dbt docs generate` reads besides the project: the warehouse's database name and the names
    and types of its relations' columns (the docs hold no data). None when the file cannot be read."""
    import duckdb

    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return None
    try:
        rows = con.execute(
            "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
            "ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()
    digest = hashlib.sha256(f"{key}\n{warehouse.stem}\n{rows!r}".encode()).hexdigest()
    return digest[:32]


def build_docs_site(site: Path, key: str, warehouse: Path | None = None) -> dict[str, Any]:
    """Generate the docs and lineage into a new build folder and switch site/docs to it. A site already
    generated from the same project and warehouse catalog (target/docs_site_cache) is copied."""
    builds = site / BUILDS_FOLDER
    builds.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=time.strftime("%Y%m%dT%H%M%S-"), dir=builds))
    from dagster_project.docs_site.column_lineage import write_column_lineage  # sqlglot: only when built

    cached = CACHE_FOLDER / ck if warehouse and (ck := catalog_key(warehouse, key)) else None
    names = (*SITE_FILES, LINEAGE_FILE)
    if cached is not None and all((cached / n).is_file() for n in names):
        for name in names:
            shutil.copy2(cached / name, build / name)
        lineage = json.loads((build / LINEAGE_FILE).read_text())
    else:
        with tempfile.TemporaryDirectory(prefix="salesmp-dbt-docs-") as tmp:
            target = Path(tmp)
            run_dbt_docs_generate(target)
            for name in SITE_FILES:
                shutil.copy2(target / name, build / name)
            lineage = write_column_lineage(target, build / LINEAGE_FILE)
        if cached is not None:  # filled beside, then renamed into place: a reader sees all files or none
            CACHE_FOLDER.mkdir(parents=True, exist_ok=True)
            fill = Path(tempfile.mkdtemp(prefix=".fill-", dir=CACHE_FOLDER))
            for name in names:
                shutil.copy2(build / name, fill / name)
            try:
                os.replace(fill, cached)
            except OSError:  # another run filled it first
                shutil.rmtree(fill, ignore_errors=True)
    (build / SOURCE_KEY_FILE).write_text(key)
    build.chmod(0o755)  # mkdtemp makes it private; the site is served to others
    manifest = json.loads((build / "manifest.json").read_text())
    catalog = json.loads((build / "catalog.json").read_text())
    return {
        "docs": swap_in(site, build),
        "models": sum(1 for n in manifest["nodes"].values() if n["resource_type"] == "model"),
        "exposures": len(manifest.get("exposures", {})),
        "catalog_relations": len(catalog.get("nodes", {})) + len(catalog.get("sources", {})),
        "lineage": lineage,
    }


def column_lineage_observations(lineage: dict[str, Any]) -> list[dg.AssetObservation]:
    """The marts' column lineage (direct upstream columns) as `dagster/column_lineage` observations."""
    observations = []
    for model, entry in lineage["models"].items():
        deps_by_column = {
            column: [
                dg.TableColumnDep(asset_key=dg.AssetKey(relation.split(".")[:-1]), column_name=relation.split(".")[-1])
                for relation in columns["upstream"]
            ]
            for column, columns in entry["columns"].items()
        }
        observations.append(
            dg.AssetObservation(
                asset_key=dg.AssetKey([model]),
                metadata={"dagster/column_lineage": dg.TableColumnLineage(deps_by_column=deps_by_column)},
            )
        )
    return observations


@dg.asset(
    key=DOCS_KEY,
    group_name="docs",
    deps=[PUBLISH_KEY],
    owners=PLATFORM_OWNERS,
    kinds={"dbt", "html"},
    tags={"layer": "docs"},
    description=(
        "The dbt docs site for analysts: every model, column, seed, source and exposure with its "
        "description and the lineage graph, plus column_lineage.json (which staging columns feed each "
        "mart column, traced through the SQL with sqlglot). Runs `dbt docs generate` against the "
        "warehouse after each publish and switches $SALESMP_SITE/docs to the new site in one rename; "
        "`make docs` serves that folder as it is."
    ),
)
def dbt_docs(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    started = time.monotonic()
    settings = load_settings()
    site, key = settings.site, project_key()
    if site_is_current(site, key):
        # Daily runs: the dbt project has not changed since the site was generated, so neither have
        # the docs (dbt docs hold no data); skipping keeps a daily run's cost off `dbt docs generate`.
        context.log.info("The dbt project is unchanged since the docs were generated; the site is kept.")
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(site / "docs" / "index.html")),
                "unchanged": True,
                "seconds": round(time.monotonic() - started, 2),
            }
        )
    built = build_docs_site(site, key, settings.warehouse)
    for observation in column_lineage_observations(built["lineage"]):
        context.log_event(observation)
    columns = sum(len(m["columns"]) for m in built["lineage"]["models"].values())
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(built["docs"] / "index.html")),
            "models": built["models"],
            "exposures": built["exposures"],
            "catalog_relations": built["catalog_relations"],
            "column_lineage": dg.MetadataValue.path(str(built["docs"] / LINEAGE_FILE)),
            "mart_columns_traced": columns,
            "unchanged": False,
            "seconds": round(time.monotonic() - started, 2),
        }
    )


docs_assets: list[dg.AssetsDefinition] = [dbt_docs]
