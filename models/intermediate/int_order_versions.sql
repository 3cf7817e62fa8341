{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key=['order_id', 'arrival_month'],
        on_schema_change='fail',
        post_hook="{{ withdraw_missing_keys('orders', ['order_id', 'arrival_month'],
            {'arrival_month': salesmp_month_start('arrived._partition_date')}) }}",
    )
}}
-- The latest record of each order among those that arrived in each month (grain: order_id x
-- arrival_month). The latest record as of a month end is the latest of these up to that month:
-- mart_customer_rfm_history reads it to use only records that had arrived by then.
-- A re-delivered day replaces its records: see latest_arrivals_ctes (the same rule, on this grain).
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

{% if is_incremental() %}
    redelivered as (
        select order_id, arrival_month
        from {{ this }}
        where {{ in_arrival_window('_partition_date') }}
    ),
{% endif %}

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
        where
            not {{ in_arrival_window('stored._partition_date') }}
            and exists (
                select 1 from arrivals
                where arrivals.order_id = stored.order_id and arrivals.arrival_month = stored.arrival_month
            )
        union all
        select
            earlier.order_id,
            {{ salesmp_month_start('earlier._partition_date') }} as arrival_month,
            earlier.customer_id,
            earlier.channel_id,
            earlier.order_ts,
            earlier.amount,
            earlier.status,
            earlier.updated_at,
            earlier._partition_date,
            earlier._source_file,
            earlier._line_number
        from {{ source('raw', 'orders') }} as earlier
        where
            not {{ in_arrival_window('earlier._partition_date') }}
            and exists (
                select 1 from redelivered
                where
                    redelivered.order_id = earlier.order_id
                    and redelivered.arrival_month = {{ salesmp_month_start('earlier._partition_date') }}
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
