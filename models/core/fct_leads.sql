{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key=['lead_id', 'stage'],
        on_schema_change='fail',
        post_hook="{{ withdraw_missing_keys('leads', ['lead_id', 'stage']) }}",
    )
}}
-- Lead stages, latest record per (lead_id, stage); incremental on the arrival partition.
with {{ latest_arrivals_ctes('leads', ['lead_id', 'stage'], false) }}

select
    lead_id,
    stage,
    channel_id,
    stage_ts,
    {{ salesmp_local_date('stage_ts') }} as stage_date,
    customer_id,
    industry,
    _partition_date,
    _source_file,
    _line_number,
    _ingested_at
from ranked
where record_rank = 1
