"""Quality gates: Great Expectations suites (expectations/*.yml) run as Dagster asset checks.

- `suites`: read and check the suite files (no Great Expectations import: definitions load fast).
- `batches`: the pandas frames a suite is validated on, pulled from or computed in DuckDB.
- `validation`: one ephemeral Great Expectations context over pandas batches; outcomes per check.
- `checks`: the Dagster asset checks built from the suites.
- `data_docs`: static, offline HTML of the suites and their latest results.
"""
