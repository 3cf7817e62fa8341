-- One row per landing file (source_file NULL: the feed had no file for the partition).
select
    feed,
    partition_date,
    source_file,
    file_format,
    rows_read,
    rows_loaded,
    rows_quarantined,
    extra_columns,
    _ingested_at
from {{ source('raw', 'ingest_log') }}
