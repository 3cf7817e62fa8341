"""Import the versioned Superset assets (bi/superset/assets/) into the Superset of SUPERSET_CONFIG_PATH.

    SALESMP_SERVING=/abs/serving.duckdb .superset/venv/bin/python bi/superset/setup_superset.py

Run with Superset's own interpreter (`make superset` does, after `superset db upgrade`, the admin user
and `superset init`). It imports, overwriting what an earlier import left:

- the serving database, read-only (`access_mode=read_only` in the URI, no DML), at SALESMP_SERVING;
- a dataset for every published dbt model (dims, facts, marts, the semantic layer's rows), its columns
  and types read from the dbt contract (`_*.yml` in `models/core/`, `models/marts/`, `models/semantic/`),
  so the datasets follow the models; plus the
  hand-written datasets of assets/datasets/ (publish_log and the dashboard's two newest-month views);
- the charts of assets/charts/ and the "Channel health" dashboard of assets/dashboards/.

A chart's file holds its Explore form data (`params`, what the page draws) and the `query` its
chart-data API runs; the query context Superset stores for the API is made here from both, as
saving the chart in Explore would.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ASSETS = HERE / "assets"
ROOT = HERE.parents[1]
# The dbt folders whose models are published (dims, facts, marts and the semantic layer's rows), and the
# prefixes of those models.
PUBLISHED_CONTRACTS = (ROOT / "models" / "core", ROOT / "models" / "marts", ROOT / "models" / "semantic")
PUBLISHED_PREFIXES = ("dim_", "fct_", "mart_", "sem_", "metricflow_")
DATABASE_UUID = "0b6498c9-5c11-4045-98fe-9887384836a3"
DATASET_NAMESPACE = uuid.UUID("5f1b4c1e-8a53-4c7e-9d38-53a1e5a1e0a0")
TEMPORAL = ("date", "timestamp")


def mart_datasets() -> dict[str, dict]:
    """One dataset per published model, from its dbt contract (name, data_type, description)."""
    datasets = {}
    for path in sorted(p for folder in PUBLISHED_CONTRACTS if folder.is_dir() for p in folder.rglob("_*.yml")):
        for model in yaml.safe_load(path.read_text()).get("models", []):
            name = model["name"]
            if not name.startswith(PUBLISHED_PREFIXES):
                continue
            columns = [
                {
                    "column_name": c["name"],
                    "type": c["data_type"].upper(),
                    "is_dttm": c["data_type"].lower().startswith(TEMPORAL),
                    "groupby": True,
                    "filterable": True,
                    "description": (c.get("description") or "").strip() or None,
                }
                for c in model.get("columns", [])
            ]
            datasets[f"datasets/serving/{name}.yaml"] = {
                "table_name": name,
                "description": " ".join((model.get("description") or "").split()) or None,
                "schema": "main",
                "sql": None,
                "main_dttm_col": next((c["column_name"] for c in columns if c["is_dttm"]), None),
                "uuid": str(uuid.uuid5(DATASET_NAMESPACE, name)),
                "database_uuid": DATABASE_UUID,
                "version": "1.0.0",
                "metrics": [],
                "columns": columns,
            }
    return datasets


def bundle(serving: Path) -> tuple[dict[str, dict], dict[str, dict], dict[str, dict]]:
    """(database and datasets, charts and dashboard, chart uuid -> query) as import configs."""
    def load(path: Path) -> dict:
        return yaml.safe_load(path.read_text().replace("${SALESMP_SERVING}", str(serving)))

    sources = {"databases/serving.yaml": load(ASSETS / "databases" / "serving.yaml"), **mart_datasets()}
    for path in sorted((ASSETS / "datasets" / "serving").glob("*.yaml")):
        sources[f"datasets/serving/{path.name}"] = load(path)
    views, queries = {}, {}
    for folder in ("charts", "dashboards"):
        for path in sorted((ASSETS / folder).glob("*.yaml")):
            config = load(path)
            if folder == "charts":
                queries[config["uuid"]] = config.pop("query")
            views[f"{folder}/{path.name}"] = config
    return sources, views, queries


def query_context(chart, query: dict) -> str:
    form_data = {**json.loads(chart.params), "datasource": f"{chart.datasource_id}__table", "slice_id": chart.id}
    return json.dumps({
        "datasource": {"id": chart.datasource_id, "type": "table"},
        "force": False,
        "form_data": form_data,
        "queries": [{"filters": [], "extras": {"having": "", "where": ""}, "annotation_layers": [],
                     "url_params": {}, "custom_params": {}, "custom_form_data": {}, **query}],
        "result_format": "json",
        "result_type": "full",
    })


def main() -> None:
    serving = Path(os.environ.get("SALESMP_SERVING", ROOT / "data" / "serving.duckdb")).resolve()
    from flask import g
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        from superset import db, security_manager
        from superset.commands.chart.importers.dispatcher import ImportChartsCommand
        from superset.commands.dashboard.importers.dispatcher import ImportDashboardsCommand
        from superset.commands.database.importers.dispatcher import ImportDatabasesCommand
        from superset.commands.dataset.importers.dispatcher import ImportDatasetsCommand
        from superset.models.slice import Slice

        g.user = security_manager.find_user(username=os.environ.get("SALESMP_SUPERSET_USER", "admin"))
        sources, views, queries = bundle(serving)

        def contents(kind: str, configs: dict[str, dict]) -> dict[str, str]:
            meta = {"version": "1.0.0", "type": kind, "timestamp": "2026-01-01T00:00:00+00:00"}
            return {"metadata.yaml": yaml.safe_dump(meta)} | {k: yaml.safe_dump(v) for k, v in configs.items()}

        # Each kind with its own command, database first: an import overwrites only the kind it is
        # for (a dashboard import keeps the charts, datasets and database that exist, so a changed
        # chart or SALESMP_SERVING would not reach the metadata database).
        database = {k: v for k, v in sources.items() if k.startswith("databases/")}
        ImportDatabasesCommand(contents("Database", database), overwrite=True).run()
        ImportDatasetsCommand(contents("SqlaTable", sources), overwrite=True).run()
        charts = {k: v for k, v in views.items() if k.startswith("charts/")}
        ImportChartsCommand(contents("Slice", sources | charts), overwrite=True).run()
        ImportDashboardsCommand(contents("Dashboard", sources | views), overwrite=True).run()
        for chart_uuid, query in queries.items():
            chart = db.session.query(Slice).filter_by(uuid=uuid.UUID(chart_uuid)).one()
            chart.query_context = query_context(chart, query)
        db.session.commit()
        print(f"Superset: serving database {serving} (read-only), {len(sources) - 1} datasets, "
              f"{len(queries)} charts, dashboard 'Channel health' imported.")


if __name__ == "__main__":
    sys.exit(main())
