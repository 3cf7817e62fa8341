{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key=['activity_date', 'channel_id'],
        on_schema_change='fail',
    )
}}
-- Daily traffic and spend, latest record per (activity_date, channel_id); incremental on arrival.
with arrivals as (
    select
        {{ raw_column_list('channel_activity', indent=8) }}
    from {{ source('raw', 'channel_activity') }}
    where {{ arrival_window() }}
),

candidates as (
    select * from arrivals
    {% if is_incremental() %}
        union all
        select
            stored.activity_date,
            stored.channel_id,
            stored.visits,
            stored.avg_visit_seconds,
            stored.inquiries,
            stored.carts,
            stored.spend,
            stored._partition_date,
            stored._source_file,
            stored._line_number,
            stored._ingested_at
        from {{ this }} as stored
        where exists (
            select 1 from arrivals
            where arrivals.activity_date = stored.activity_date and arrivals.channel_id = stored.channel_id
        )
    {% endif %}
),

ranked as (
    select
        *,
        {{ latest_record_rank(['activity_date', 'channel_id'], false) }} as record_rank
    from candidates
)

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
