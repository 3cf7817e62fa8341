"""Column-level lineage of the mart layer, read from the compiled SQL of the dbt manifest.

For every column of every model of the marts folder (dims, facts, marts) it names the columns of the
models it reads directly (`upstream`) and, followed down through the intermediate models and the
other marts, the staging columns (`staging`), seed columns (`seeds`) and raw source columns
(`sources`) it is computed from. sqlglot resolves the select list through CTEs, unions and `*`;
columns used only in joins, filters or `count(*)` feed no column, so they do not appear.

The incremental facts read the raw feeds themselves (their arrival window), not the staging views,
though both keep the latest record per key by the same rule. So that `staging` answers "which staging
column is this" for them too, a raw column read directly also counts the staging column that is its
plain copy (same name, that raw column alone), e.g. raw.surveys.nps_score -> stg_surveys.nps_score;
`sources` keeps the raw columns actually read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.lineage import lineage

DIALECT = "duckdb"
MART_FOLDERS = ("core", "marts")  # the published models


def _relation_key(database: str | None, schema: str | None, name: str | None) -> tuple[str, str]:
    # The database is the warehouse file's stem, which differs between builds; schema.name is unique.
    return ((schema or "").lower(), (name or "").lower())


class _Project:
    """The manifest's nodes by relation, and the column types sqlglot needs to expand `*`."""

    def __init__(self, manifest: Mapping[str, Any], catalog: Mapping[str, Any] | None):
        self.nodes = {**manifest["nodes"], **manifest["sources"]}
        self.by_relation: dict[tuple[str, str], str] = {}
        for uid, node in self.nodes.items():
            if node["resource_type"] in ("model", "seed", "source", "snapshot"):
                name = node.get("identifier") if node["resource_type"] == "source" else node.get("alias")
                self.by_relation[_relation_key(node.get("database"), node.get("schema"), name or node["name"])] = uid
        self.schema: dict[str, dict[str, dict[str, dict[str, str]]]] = {}
        catalog_entries = {**(catalog or {}).get("nodes", {}), **(catalog or {}).get("sources", {})}
        for uid, node in self.nodes.items():
            if uid not in self.by_relation.values():
                continue
            entry = catalog_entries.get(uid)
            if entry:
                meta = entry["metadata"]
                db, schema, name = meta.get("database"), meta["schema"], meta["name"]
                columns = {c.lower(): col.get("type") or "unknown" for c, col in entry["columns"].items()}
            else:  # not built yet: the columns the YAML declares
                db, schema = node.get("database"), node.get("schema")
                name = node.get("identifier") if node["resource_type"] == "source" else node.get("alias")
                columns = {c.lower(): col.get("data_type") or "unknown" for c, col in node["columns"].items()}
            self.schema.setdefault(db or "", {}).setdefault(schema, {})[name] = columns
        self._direct: dict[str, dict[str, list[tuple[str, str]]]] = {}
        self._leaves: dict[tuple[str, str], set[tuple[str, str]]] = {}

    def label(self, uid: str) -> str:
        node = self.nodes[uid]
        if node["resource_type"] == "source":
            return f"{node['source_name']}.{node['name']}"
        return node["name"]

    def is_leaf(self, uid: str) -> bool:
        node = self.nodes[uid]
        return node["resource_type"] != "model" or node["name"].startswith("stg_")

    def direct(self, uid: str) -> dict[str, list[tuple[str, str]]]:
        """Output column -> the (unique_id, column) pairs of the relations it is selected from."""
        if uid in self._direct:
            return self._direct[uid]
        node = self.nodes[uid]
        sql = node.get("compiled_code")
        if not sql:
            raise ValueError(f"{node['name']} has no compiled SQL in the manifest; run `dbt compile` first.")
        try:
            roots = lineage(None, sql, self.schema, dialect=DIALECT)
        except SqlglotError as exc:
            raise ValueError(f"sqlglot could not trace the columns of {node['name']}: {exc}") from exc
        result: dict[str, list[tuple[str, str]]] = {}
        for column, root in roots.items():
            parents: set[tuple[str, str]] = set()
            for step in root.walk():
                table = step.expression
                if not isinstance(table, exp.Table):
                    continue
                parent = self.by_relation.get(_relation_key(table.catalog, table.db, table.name))
                if parent is not None:
                    parents.add((parent, step.name.split(".")[-1].lower()))
            result[column.lower()] = sorted(parents)
        self._direct[uid] = result
        return result

    def leaves(self, uid: str, column: str) -> set[tuple[str, str]]:
        """The staging, seed and source columns that (model uid).column is computed from."""
        key = (uid, column)
        if key not in self._leaves:
            self._leaves[key] = set()  # guards against a cycle; dbt's graph has none
            found: set[tuple[str, str]] = set()
            for parent, parent_column in self.direct(uid).get(column, []):
                if self.is_leaf(parent):
                    found.add((parent, parent_column))
                else:
                    found |= self.leaves(parent, parent_column)
            self._leaves[key] = found
        return self._leaves[key]


def build_column_lineage(manifest: Mapping[str, Any], catalog: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """{"models": {model: {"unique_id", "columns": {column: {"upstream", "staging", "seeds", "sources"}}}}}.

    Each list holds "relation.column" strings, sorted. Relations are dbt model and seed names, and
    "source_name.table" for sources.
    """
    project = _Project(manifest, catalog)
    staging_copy: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for uid, node in project.nodes.items():
        if node["resource_type"] == "model" and node["name"].startswith("stg_"):
            for column, parents in project.direct(uid).items():
                if (
                    len(parents) == 1
                    and parents[0][1] == column
                    and project.nodes[parents[0][0]]["resource_type"] == "source"
                ):
                    staging_copy.setdefault(parents[0], set()).add((uid, column))
    models: dict[str, Any] = {}
    for uid, node in sorted(project.nodes.items()):
        if node["resource_type"] != "model" or (node.get("fqn") or ["", ""])[1] not in MART_FOLDERS:
            continue
        columns: dict[str, Any] = {}
        for column, parents in project.direct(uid).items():
            leaves = project.leaves(uid, column)
            by_kind: dict[str, list[str]] = {"staging": [], "seeds": [], "sources": []}
            for leaf, leaf_column in leaves:
                kind = {"model": "staging", "seed": "seeds", "source": "sources"}.get(
                    project.nodes[leaf]["resource_type"], "sources"
                )
                by_kind[kind].append(f"{project.label(leaf)}.{leaf_column}")
                for copy, copy_column in staging_copy.get((leaf, leaf_column), ()):
                    by_kind["staging"].append(f"{project.label(copy)}.{copy_column}")
            columns[column] = {
                "upstream": sorted(f"{project.label(p)}.{c}" for p, c in parents),
                **{kind: sorted(set(names)) for kind, names in by_kind.items()},
            }
        models[node["name"]] = {"unique_id": uid, "columns": columns}
    return {"dbt_project": manifest["metadata"].get("project_name"), "models": models}


def write_column_lineage(target_dir: Path, out: Path) -> dict[str, Any]:
    """Read manifest.json and catalog.json of a dbt target folder, write the lineage JSON to `out`."""
    manifest = json.loads((target_dir / "manifest.json").read_text())
    catalog_path = target_dir / "catalog.json"
    catalog = json.loads(catalog_path.read_text()) if catalog_path.exists() else None
    result = build_column_lineage(manifest, catalog)
    out.write_text(json.dumps(result, indent=1, sort_keys=True))
    return result
