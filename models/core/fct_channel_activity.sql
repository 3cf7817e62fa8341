{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key=['activity_date', 'channel_id'],
        on_schema_change='fail',
        post_hook="{{ withdraw_missing_keys('channel_activity', ['activity_date', 'channel_id']) }}",
    )
}}
-- Daily traffic and spend, latest record per (activity_date, channel_id); incremental on arrival.
with {{ latest_arrivals_ctes('channel_activity', ['activity_date', 'channel_id'], false) }}

select
    activity_date,
    channel_id,
    {{ salesmp_month_start('activity_date') }} as activity_month,
    visits,
    avg_visit_seconds,
    inquiries,
    carts,
    cast(spend as decimal(18, 2)) as spend,
    _partition_date,
    _source_file,
    _line_number,
    _ingested_at
from ranked
where record_rank = 1
