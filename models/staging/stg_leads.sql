-- Lead stages, latest record per (lead_id, stage).
with records as (
    select
        lead_id,
        stage,
        channel_id,
        stage_ts,
        customer_id,
        industry,
        _partition_date,
        _source_file,
        _line_number,
        _ingested_at,
        {{ latest_record_rank(['lead_id', 'stage'], false) }} as record_rank
    from {{ source('raw', 'leads') }}
)

select
    lead_id,
    stage,
    channel_id,
    stage_ts,
    customer_id,
    industry,
    _partition_date,
    _source_file,
    _line_number,
    _ingested_at
from records
where record_rank = 1
