-- NPS / CSAT answers, latest record per response_id.
with records as (
    select
        response_id,
        customer_id,
        channel_id,
        submitted_at,
        nps_score,
        csat_score,
        comment,
        _partition_date,
        _source_file,
        _line_number,
        _ingested_at,
        {{ latest_record_rank(['response_id'], false) }} as record_rank
    from {{ source('raw', 'surveys') }}
)

select
    response_id,
    customer_id,
    channel_id,
    submitted_at,
    nps_score,
    csat_score,
    comment,
    _partition_date,
    _source_file,
    _line_number,
    _ingested_at
from records
where record_rank = 1
