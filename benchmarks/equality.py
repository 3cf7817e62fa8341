"""Do the floor's and the peer's marts equal the pipeline's published ones? (Else no ratio means anything.)

The reference is the serving database (SALESMP_SERVING: tables of schema main, named as in the dbt
project). A candidate is a DuckDB file (the floor) or a folder of `<mart>.parquet` files (the peer).
The comparison runs in DuckDB, so it stays quick at millions of rows:

- the same keys (no key missing, none extra, none duplicated);
- every column of the published mart is present in the candidate and equal in every row: money
  (the reference's DECIMAL columns) to the cent, DOUBLE within a relative and absolute tolerance of
  1e-9, everything else exactly (the candidate's value cast to the reference's type); NULL equals
  NULL only (a NaN counts as NULL).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dagster_project.sql import ident

CORE_MARTS: dict[str, tuple[str, ...]] = {
    "mart_customer_rfm": ("customer_id",),
    "mart_channel_funnel": ("channel_id", "month"),
    "mart_nps": ("grain", "grain_key", "month"),
    "mart_channel_health": ("channel_id", "month"),
}
FLOAT_TOLERANCE = 1e-9
SHOWN_DIFFERENCES = 5


class MartsDiffer(AssertionError):
    """A candidate's marts are not the pipeline's: the benchmark's ratios would be meaningless."""


@dataclass
class MartComparison:
    mart: str
    rows_reference: int
    rows_candidate: int
    problems: list[str] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return not self.problems


def _candidate_relation(candidate: Path, mart: str) -> str:
    if candidate.is_dir():
        return f"read_parquet('{candidate / (mart + '.parquet')}')"
    return f"cand.main.{ident(mart)}"


def _same(column: str, data_type: str) -> str:
    """SQL that is true when ref.<column> and cand.<column> agree (NULL-safe)."""
    r, c = f"r.{ident(column)}", f"c.{ident(column)}"
    if data_type.startswith("DECIMAL"):
        # to the cent: the candidate may carry money as DECIMAL or as a float rounded to the cent
        return f"{r} is not distinct from try_cast({c} as decimal(38, 2))"
    if data_type in ("DOUBLE", "FLOAT", "REAL"):
        cd = f"(case when isnan(try_cast({c} as double)) then null else try_cast({c} as double) end)"
        return (
            f"(({r} is null and {cd} is null) or abs({r} - {cd}) <= "
            f"greatest({FLOAT_TOLERANCE} * greatest(abs({r}), abs({cd})), {FLOAT_TOLERANCE}))"
        )
    return f"{r} is not distinct from try_cast({c} as {data_type})"


def compare_mart(con: duckdb.DuckDBPyConnection, candidate: Path, mart: str) -> MartComparison:
    keys = CORE_MARTS[mart]
    ref = f"ref.main.{ident(mart)}"
    cand = _candidate_relation(candidate, mart)
    ref_columns = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = 'ref' AND table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
        [mart],
    ).fetchall()
    if not ref_columns:
        raise MartsDiffer(f"{mart} is not in the serving database")
    cand_columns = {name for name, *_ in con.execute(f"DESCRIBE SELECT * FROM {cand}").fetchall()}
    types = dict(ref_columns)
    result = MartComparison(
        mart,
        con.execute(f"SELECT count(*) FROM {ref}").fetchone()[0],
        con.execute(f"SELECT count(*) FROM {cand}").fetchone()[0],
    )
    missing_columns = [name for name, _ in ref_columns if name not in cand_columns]
    if missing_columns:
        result.problems.append(f"columns missing from the candidate: {missing_columns}")
        return result
    key_list = ", ".join(ident(k) for k in keys)
    for side, relation in (("reference", ref), ("candidate", cand)):
        dups = con.execute(
            f"SELECT count(*) FROM (SELECT {key_list} FROM {relation} GROUP BY ALL HAVING count(*) > 1)"
        ).fetchone()[0]
        if dups:
            result.problems.append(f"{dups} duplicate keys {list(keys)} in the {side}")
    key_casts = ", ".join(f"try_cast({ident(k)} as {types[k]}) as {ident(k)}" for k in keys)
    others = ", ".join(ident(n) for n, _ in ref_columns if n not in keys)
    join = " and ".join(f"r.{ident(k)} is not distinct from c.{ident(k)}" for k in keys)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _pairs AS SELECT "
        + ", ".join(f"coalesce(r.{ident(k)}, c.{ident(k)}) as {ident('key_' + k)}" for k in keys)
        + ", r._present as in_reference, c._present as in_candidate, "
        + ", ".join(_same(n, t) + f" as {ident('same_' + n)}" for n, t in ref_columns if n not in keys)
        + ", "
        + ", ".join(
            f"r.{ident(n)} as {ident('ref_' + n)}, c.{ident(n)} as {ident('cand_' + n)}"
            for n, _ in ref_columns
            if n not in keys
        )
        + f" FROM (SELECT *, true as _present FROM {ref}) r "
        f"FULL OUTER JOIN (SELECT {key_casts}, {others}, true as _present FROM {cand}) c ON {join}"
    )
    key_cols = ", ".join(ident("key_" + k) for k in keys)
    key_text = "concat_ws(' / ', " + ", ".join(f"coalesce({ident('key_' + k)}::VARCHAR, 'NULL')" for k in keys) + ")"
    for label, where in (("in the reference only (missing)", "in_candidate is null"),
                         ("in the candidate only (extra)", "in_reference is null")):
        n, examples = con.execute(
            f"SELECT count(*), list({key_text} ORDER BY {key_cols})[1:{SHOWN_DIFFERENCES}] "
            f"FROM _pairs WHERE {where}"
        ).fetchone()
        if n:
            result.problems.append(f"{n} keys {label}, e.g. {examples}")
    for name, _ in ref_columns:
        if name in keys:
            continue
        same = ident("same_" + name)
        n = con.execute(
            f"SELECT count(*) FROM _pairs WHERE in_reference AND in_candidate AND NOT coalesce({same}, false)"
        ).fetchone()[0]
        if n:
            shown = con.execute(
                f"SELECT {key_text}, {ident('ref_' + name)}::VARCHAR, {ident('cand_' + name)}::VARCHAR "
                f"FROM _pairs WHERE in_reference AND in_candidate AND NOT coalesce({same}, false) "
                f"ORDER BY {key_cols} LIMIT {SHOWN_DIFFERENCES}"
            ).fetchall()
            examples = "; ".join(f"{k}: pipeline {a} vs {b}" for k, a, b in shown)
            result.problems.append(f"{n} rows differ in {name}, e.g. {examples}")
    return result


def compare_marts(serving: Path, candidate: Path) -> list[MartComparison]:
    """Compare the four core marts of `candidate` (DuckDB file or parquet folder) with `serving`."""
    con = duckdb.connect()
    try:
        con.execute("SET threads = 2")
        con.execute(f"ATTACH '{Path(serving)}' AS ref (READ_ONLY)")
        if not Path(candidate).is_dir():
            con.execute(f"ATTACH '{Path(candidate)}' AS cand (READ_ONLY)")
        return [compare_mart(con, Path(candidate), mart) for mart in CORE_MARTS]
    finally:
        con.close()


def assert_marts_equal(serving: Path, candidate: Path, label: str) -> list[MartComparison]:
    """Raise MartsDiffer, naming every difference, unless the four marts are equal."""
    results = compare_marts(serving, candidate)
    bad = [r for r in results if not r.equal]
    if bad:
        lines = [f"{label}: the marts differ from the pipeline's published marts ({serving}):"]
        for r in bad:
            lines.append(f"- {r.mart} (pipeline {r.rows_reference:,} rows, {label} {r.rows_candidate:,} rows):")
            lines += [f"    {p}" for p in r.problems]
        raise MartsDiffer("\n".join(lines))
    return results
