"""Validation of the all-text rows: one reason per row, the first in REASON_CODES order, as DuckDB SQL."""

from __future__ import annotations

from dagster_project.ingest.feeds import REASON_CODES, Column, Feed
from dagster_project.sql import ident, literal

ISO_TS_RE = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?\s?(Z|z|[+-]\d{2}(:?\d{2})?)?$"
ISO_DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
MONTH_RE = r"^\d{4}-\d{2}$"
INT_RE = r"^[+-]?\d{1,18}$"
MONEY_RE = r"^[+-]?\d{1,16}(\.\d{1,2})?$"
NUMBER_RE = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"


# --------------------------------------------------------------------------------------------------
# Validation: one reason per row, the first in REASON_CODES order.
# --------------------------------------------------------------------------------------------------


def _value_checks(col: Column) -> list[tuple[str, str, str]]:
    """(reason_code, SQL condition on the text value v, SQL message) for one column."""
    v = ident(col.name)
    name = col.name
    shown = f"'column {name}: ''' || {v} || ''''"
    checks: list[tuple[str, str, str]] = []
    if col.required:
        checks.append(("missing_value", f"{v} IS NULL", f"'required column {name} is empty'"))
    temporal = {
        "timestamp": (ISO_TS_RE, f"{v}", "TIMESTAMPTZ", "an ISO 8601 timestamp"),
        "date": (ISO_DATE_RE, f"{v}", "DATE", "a YYYY-MM-DD date"),
        "month": (MONTH_RE, f"{v} || '-01'", "DATE", "a YYYY-MM month"),
    }
    if col.kind in temporal:
        pattern, text, cast, what = temporal[col.kind]
        cond = f"{v} IS NOT NULL AND (NOT regexp_full_match({v}, '{pattern}') OR try_cast({text} AS {cast}) IS NULL)"
        checks.append(("bad_timestamp", cond, f"{shown} || ' is not {what}'"))
    elif col.kind in ("int", "money", "number"):
        pattern = {"int": INT_RE, "money": MONEY_RE, "number": NUMBER_RE}[col.kind]
        what = {
            "int": "is not an integer",
            "money": "is not an amount with at most two decimals",
            "number": "is not a number",
        }[col.kind]
        cast = {"int": "BIGINT", "money": "DECIMAL(18,2)", "number": "DOUBLE"}[col.kind]
        checks.append(
            ("bad_number", f"{v} IS NOT NULL AND NOT regexp_full_match({v}, '{pattern}')", f"{shown} || ' {what}'")
        )
        typed = f"CAST({v} AS {cast})"
        if col.min_value is not None:
            op = "<=" if col.min_exclusive else "<"
            bound = "greater than" if col.min_exclusive else "at least"
            checks.append(
                (
                    "out_of_range",
                    f"{v} IS NOT NULL AND regexp_full_match({v}, '{pattern}') AND {typed} {op} {col.min_value}",
                    f"{shown} || ' must be {bound} {col.min_value}'",
                )
            )
        if col.max_value is not None:
            checks.append(
                (
                    "out_of_range",
                    f"{v} IS NOT NULL AND regexp_full_match({v}, '{pattern}') AND {typed} > {col.max_value}",
                    f"{shown} || ' must be at most {col.max_value}'",
                )
            )
    elif col.kind == "bool":
        checks.append(
            (
                "bad_enum",
                f"{v} IS NOT NULL AND lower({v}) NOT IN ('true', 'false')",
                f"{shown} || ' is not true or false'",
            )
        )
    elif col.kind == "enum":
        allowed = ", ".join(literal(e) for e in col.enum)
        checks.append(
            (
                "bad_enum",
                f"{v} IS NOT NULL AND {v} NOT IN ({allowed})",
                f"{shown} || ' is not one of {', '.join(col.enum)}'",
            )
        )
    return checks


def classify_sql(feed: Feed) -> str:
    checks = [c for col in feed.columns for c in _value_checks(col)]
    ordered = sorted(checks, key=lambda c: REASON_CODES.index(c[0]))
    code_whens = "\n".join(f"WHEN {cond} THEN {literal(code)}" for code, cond, _ in ordered)
    msg_whens = "\n".join(f"WHEN {cond} THEN {msg}" for _, cond, msg in ordered)
    key_cols = ", ".join(ident(k) for k in feed.key)
    return f"""
    CREATE OR REPLACE TEMP TABLE _classified AS
    WITH valued AS (
        SELECT *,
               CASE WHEN struct_code IS NOT NULL THEN struct_code {code_whens} END AS value_code,
               CASE WHEN struct_code IS NOT NULL THEN struct_reason {msg_whens} END AS value_reason
        FROM _rows
    ), dup AS (
        SELECT *,
               CASE WHEN value_code IS NULL
                    THEN row_number() OVER (PARTITION BY file_id, value_code, raw_record ORDER BY line_number)
               END AS copy_no,
               CASE WHEN value_code IS NULL
                    THEN min(line_number) OVER (PARTITION BY file_id, value_code, raw_record) END AS first_line
        FROM valued
    ), conflict AS (
        SELECT *,
               CASE WHEN value_code IS NULL AND copy_no = 1
                    THEN count(*) FILTER (WHERE value_code IS NULL AND copy_no = 1)
                         OVER (PARTITION BY file_id, {key_cols}) END AS key_versions
        FROM dup
    )
    SELECT *,
           CASE WHEN value_code IS NOT NULL THEN value_code
                WHEN copy_no > 1 THEN 'duplicate_row'
                WHEN key_versions > 1 THEN 'conflicting_key' END AS reason_code,
           CASE WHEN value_code IS NOT NULL THEN value_reason
                WHEN copy_no > 1 THEN 'line repeats line ' || first_line || ' of the same file'
                WHEN key_versions > 1
                  THEN 'key ({", ".join(feed.key)}) = ' || concat_ws(' / ', {key_cols})
                       || ' appears ' || key_versions || ' times with different contents in the file'
           END AS reason
    FROM conflict
    """


def typed_expr(col: Column) -> str:
    v = ident(col.name)
    return {
        "text": v,
        "enum": v,
        "timestamp": f"CAST({v} AS TIMESTAMPTZ)",
        "date": f"CAST({v} AS DATE)",
        "month": f"CAST({v} || '-01' AS DATE)",
        "int": f"CAST({v} AS BIGINT)",
        "money": f"CAST({v} AS DECIMAL(18,2))",
        "number": f"CAST({v} AS DOUBLE)",
        "bool": f"lower({v}) = 'true'",
    }[col.kind]


