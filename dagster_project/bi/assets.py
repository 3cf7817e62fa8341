"""BI assets: what file-reading BI tools get from each published build (docs/bi.md)."""

import dagster as dg

from dagster_project.bi.parquet_export import export_parquet
from dagster_project.config import PLATFORM_OWNERS, load_settings
from dagster_project.publish.assets import PUBLISH_KEY


# Group "bi", not "publish": serving/publish is the gate every consumer relies on, while this is one
# consumer's copy of what it published; its own group lets the UI show (and `group:bi` re-run) the BI
# outputs without touching the gate.
@dg.asset(
    key=dg.AssetKey(["bi", "parquet_export"]),
    group_name="bi",
    deps=[PUBLISH_KEY],
    owners=PLATFORM_OWNERS,
    kinds={"parquet", "duckdb"},
    tags={"layer": "serving"},
    description=(
        "Exports every table of the serving database (the BI contract: the marts only), opened read-only, "
        "to Parquet under $SALESMP_SITE/parquet/<table>/ for BI tools that read files: the large facts "
        "split by month of their event date (hive style, month=YYYY-MM/), the other tables one file each, "
        "and _manifest.json with the build id from publish_log and each table's columns, types, rows and "
        "files. The new export is written beside the old one and swapped in atomically (a symbolic link "
        "replaced by rename). Only the tables and months whose content changed are written; the others are "
        "hard-linked from the live export. See docs/bi.md."
    ),
)
def parquet_export(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings = load_settings()
    report = export_parquet(
        serving=settings.serving,
        site=settings.site,
        tz=settings.tz,
        memory_limit=settings.duckdb_memory_limit,
        threads=settings.duckdb_threads,
    )
    tables = report.manifest["tables"]
    context.log.info(f"Exported {len(tables)} tables of build {report.build_id} to {report.target}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(report.root)),
            "export_folder": dg.MetadataValue.path(str(report.target)),
            "build_id": report.build_id,
            "tables": len(tables),
            "rows": sum(t["rows"] for t in tables),
            "files": sum(len(t["files"]) for t in tables),
            "files_reused": sum(t["reused_files"] for t in tables),
            "partitioned_by_month": ", ".join(t["table"] for t in tables if t["partitioned_by"]) or "-",
            "seconds": round(report.seconds, 2),
        }
    )


bi_assets: list[dg.AssetsDefinition] = [parquet_export]
