"""What BI tools read: Parquet exports of the published marts."""
