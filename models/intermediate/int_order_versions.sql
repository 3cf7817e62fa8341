{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key=['order_id', 'arrival_month'],
        on_schema_change='fail',
    )
}}
-- The latest record of each order among those that arrived in each month (grain: order_id x
-- arrival_month). The latest record as of a month end is the latest of these up to that month:
-- mart_customer_rfm_history reads it to use only records that had arrived by then.
with arrivals as (
    select
        order_id,
        {{ salesmp_month_start('_partition_date') }} as arrival_month,
        customer_id,
        channel_id,
        order_ts,
        amount,
        status,
        updated_at,
        _partition_date,
        _source_file,
        _line_number
    from {{ source('raw', 'orders') }}
    where {{ arrival_window() }}
),

candidates as (
    select * from arrivals
    {% if is_incremental() %}
        union all
        select
            stored.order_id,
            stored.arrival_month,
            stored.customer_id,
            stored.channel_id,
            stored.order_ts,
            stored.amount,
            stored.status,
            stored.updated_at,
            stored._partition_date,
            stored._source_file,
            stored._line_number
        from {{ this }} as stored
        where exists (
            select 1 from arrivals
            where arrivals.order_id = stored.order_id and arrivals.arrival_month = stored.arrival_month
        )
    {% endif %}
),

ranked as (
    select
        *,
        {{ latest_record_rank(['order_id', 'arrival_month'], true) }} as record_rank
    from candidates
)

select
    order_id,
    arrival_month,
    customer_id,
    channel_id,
    order_ts,
    {{ salesmp_local_date('order_ts') }} as order_date,
    cast(amount as decimal(18, 2)) as amount,
    status,
    updated_at,
    _partition_date,
    _source_file,
    _line_number
from ranked
where record_rank = 1
