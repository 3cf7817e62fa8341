-- Monthly targets per channel, latest record per (month, channel_id).
with records as (
    select
        month,
        channel_id,
        revenue_target,
        new_customers_target,
        _partition_date,
        _source_file,
        _line_number,
        _ingested_at,
        {{ latest_record_rank(['month', 'channel_id'], false) }} as record_rank
    from {{ source('raw', 'sales_targets') }}
)

select
    month,
    channel_id,
    revenue_target,
    new_customers_target,
    _partition_date,
    _source_file,
    _line_number,
    _ingested_at
from records
where record_rank = 1
