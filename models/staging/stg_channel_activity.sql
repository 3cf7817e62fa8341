-- Daily channel traffic and spend, latest record per (activity_date, channel_id).
with records as (
    select
        activity_date,
        channel_id,
        visits,
        avg_visit_seconds,
        inquiries,
        carts,
        spend,
        _partition_date,
        _source_file,
        _line_number,
        _ingested_at,
        {{ latest_record_rank(['activity_date', 'channel_id'], false) }} as record_rank
    from {{ source('raw', 'channel_activity') }}
)

select
    activity_date,
    channel_id,
    visits,
    avg_visit_seconds,
    inquiries,
    carts,
    spend,
    _partition_date,
    _source_file,
    _line_number,
    _ingested_at
from records
where record_rank = 1
