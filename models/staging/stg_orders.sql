-- Orders, latest record per order_id (a refund or cancellation supersedes the paid record).
with records as (
    select
        order_id,
        customer_id,
        channel_id,
        order_ts,
        amount,
        status,
        updated_at,
        ship_region,
        is_referral,
        _partition_date,
        _source_file,
        _line_number,
        _ingested_at,
        {{ latest_record_rank(['order_id'], true) }} as record_rank
    from {{ source('raw', 'orders') }}
)

select
    order_id,
    customer_id,
    channel_id,
    order_ts,
    amount,
    status,
    updated_at,
    ship_region,
    is_referral,
    _partition_date,
    _source_file,
    _line_number,
    _ingested_at
from records
where record_rank = 1
