"""BI export assets (filled in by issue 8)."""

import dagster as dg

bi_assets: list[dg.AssetsDefinition] = []
