"""Assets that build the dbt docs site after each publish (filled in by issue 8)."""

import dagster as dg

docs_assets: list[dg.AssetsDefinition] = []
