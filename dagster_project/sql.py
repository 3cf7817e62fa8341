"""Small helpers for the SQL the Python code writes itself (DuckDB): quoting and catalog lookups."""

from __future__ import annotations

from typing import Any


def ident(name: str) -> str:
    """A quoted SQL identifier: `a"b` -> `"a""b"`."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A SQL string literal: `it's` -> `'it''s'`."""
    return "'" + text.replace("'", "''") + "'"


def table_exists(con: Any, schema: str, table: str, catalog: str | None = None) -> bool:
    """Whether `catalog.schema.table` exists (`catalog` None: the connection's current database)."""
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_catalog = coalesce(?, current_database()) "
            "AND table_schema = ? AND table_name = ?",
            [catalog, schema, table],
        ).fetchone()[0]
    )
