"""Fault injection: what an operator's week does to a landing zone, measured against a clean run.

Every case starts from the same small generated zone and its clean `salesmp run` (built once per
session, `fault_baseline`), works on its own copy (`clone_build`), injects its fault, and compares
the result with a clean run of the same final landing zone, table by table: the row count and the
sum of a hash of every row (`fingerprint`). Only the load time (`*ingested_at*`) is left out of the
hash, and doubles are rounded to 9 decimals, so two builds of the same data compare equal.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from dagster_project.generator import generate_landing_zone
from tests.conftest import run_salesmp, salesmp_env

START = date(2025, 2, 10)  # 24 days over the February month end: one month snapshot
DAYS = 24
LAST = START + timedelta(days=DAYS - 1)
# The files of a build that a copy needs (the PII key goes with its warehouse).
BUILD_FILES = ("warehouse.duckdb", "serving.duckdb", "pii.key")


def fingerprint(database: Path, schemas: tuple[str, ...] | None = None, skip: tuple[str, ...] = ()) -> dict:
    """{schema.table: (rows, sum of row hashes)} of a DuckDB file, read-only."""
    out = {}
    with duckdb.connect(str(database), read_only=True) as con:
        tables = con.execute(
            """SELECT table_schema, table_name FROM information_schema.tables
               WHERE table_type = 'BASE TABLE' ORDER BY ALL"""
        ).fetchall()
        for schema, table in tables:
            if (schemas is not None and schema not in schemas) or table in skip or schema.startswith("salesmp_meta"):
                continue
            columns = con.execute(
                """SELECT column_name, data_type FROM information_schema.columns
                   WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position""",
                [schema, table],
            ).fetchall()
            exprs = [
                f'round("{c}", 9)' if t in ("DOUBLE", "FLOAT", "REAL") else f'"{c}"'
                for c, t in columns
                if "ingested_at" not in c
            ]
            rows, digest = con.execute(
                f'SELECT count(*), coalesce(sum(hash({", ".join(exprs)})), 0) FROM "{schema}"."{table}"'
            ).fetchone()
            out[f"{schema}.{table}"] = (rows, int(digest))
    return out


def differences(got: dict, want: dict) -> list[str]:
    """The tables whose count or hash differ, one line each (empty when the builds are equal)."""
    lines = []
    for name in sorted(set(got) | set(want)):
        if got.get(name) != want.get(name):
            lines.append(f"{name}: got {got.get(name)}, want {want.get(name)}")
    return lines


def generate_fault_zone(landing: Path) -> None:
    generate_landing_zone(
        landing, seed=11, start=START, days=DAYS, customers=250, orders=2_500,
        defect_rate=0.0, file_format="csv", progress=False,
    )


def clone_build(source: Path, dest: Path, with_build: bool = True) -> dict[str, str]:
    """Copy a build's landing zone (and its warehouse, serving file and key) into dest; its env."""
    shutil.copytree(source / "landing", dest / "landing")
    if with_build:
        for name in BUILD_FILES:
            if (source / name).exists():
                shutil.copy2(source / name, dest / name)
    return salesmp_env(dest)


def clean_run(root: Path, key_from: Path | None = None) -> dict[str, str]:
    """A clean `salesmp run` over root/landing into a new warehouse: the reference a fault must equal.
    key_from: a build folder whose PII key the clean build uses, so the pseudonyms compare equal."""
    if key_from is not None:
        shutil.copy2(key_from / "pii.key", root / "pii.key")
    env = salesmp_env(root)
    result = run_salesmp(["run"], env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return env


@pytest.fixture(scope="session")
def fault_baseline(tmp_path_factory) -> dict:
    """The fault zone and its clean build: {"root", "env", "warehouse": fingerprint, "serving": fingerprint}."""
    root: Path = tmp_path_factory.mktemp("fault_baseline")
    generate_fault_zone(root / "landing")
    env = clean_run(root)
    return {
        "root": root,
        "env": env,
        "warehouse": fingerprint(root / "warehouse.duckdb"),
        "serving": fingerprint(root / "serving.duckdb", skip=("publish_log",)),
    }
