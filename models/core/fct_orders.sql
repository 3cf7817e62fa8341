{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='order_id',
        on_schema_change='fail',
        post_hook="{{ withdraw_missing_keys('orders', ['order_id']) }}",
    )
}}
-- Orders, latest record per order_id. Incremental on the arrival partition: a run reads the raw
-- arrivals of its window, puts them beside the stored rows of the same orders and keeps the latest
-- by the contract's rule, so a late-arriving older record never overwrites a newer one.
with {{ latest_arrivals_ctes('orders', ['order_id'], true) }}

select
    order_id,
    customer_id,
    channel_id,
    order_ts,
    {{ salesmp_local_date('order_ts') }} as order_date,
    {{ salesmp_month_start(salesmp_local_date('order_ts')) }} as order_month,
    cast(amount as decimal(18, 2)) as amount,
    status,
    status = 'paid' as is_paid,
    updated_at,
    ship_region,
    is_referral,
    _partition_date,
    _source_file,
    _line_number,
    _ingested_at
from ranked
where record_rank = 1
