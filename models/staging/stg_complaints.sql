-- Customer-voice tickets, latest record per ticket_id.
with records as (
    select
        ticket_id,
        customer_id,
        channel_id,
        opened_at,
        first_response_at,
        resolved_at,
        category,
        severity,
        updated_at,
        _partition_date,
        _source_file,
        _line_number,
        _ingested_at,
        {{ latest_record_rank(['ticket_id'], true) }} as record_rank
    from {{ source('raw', 'complaints') }}
)

select
    ticket_id,
    customer_id,
    channel_id,
    opened_at,
    first_response_at,
    resolved_at,
    category,
    severity,
    updated_at,
    _partition_date,
    _source_file,
    _line_number,
    _ingested_at
from records
where record_rank = 1
