"""The dbt docs site (lineage docs for analysts) and column-level lineage of the marts."""
