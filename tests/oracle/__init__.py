"""Independent pandas / Python check of the dbt marts ("the oracle").

Written only from the specification (its common rules and the marts) and
docs/mart_rules.md, never from the dbt SQL. The end-to-end test computes the marts here from the
raw tables and compares them with the dbt marts to the cent and to the count.

- raw_io.load_raw / raw_io.load_mart: read DuckDB tables with DECIMAL as decimal.Decimal.
- core_marts.compute_core_marts: the core marts from the raw frames and the seed CSVs.
- compare.assert_frames_match: key-aware, type-aware frame comparison with a readable report.
"""
