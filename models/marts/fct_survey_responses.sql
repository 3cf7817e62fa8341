{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='response_id',
        on_schema_change='fail',
    )
}}
-- Survey answers, latest record per response_id; incremental on the arrival partition.
with arrivals as (
    select
        {{ raw_column_list('surveys', indent=8) }}
    from {{ source('raw', 'surveys') }}
    where {{ arrival_window() }}
),

candidates as (
    select * from arrivals
    {% if is_incremental() %}
        union all
        select
            {{ raw_column_list('surveys', indent=12) }}
        from {{ this }}
        where response_id in (select arrivals.response_id from arrivals)
    {% endif %}
),

ranked as (
    select
        *,
        {{ latest_record_rank(['response_id'], false) }} as record_rank
    from candidates
)

select
    response_id,
    customer_id,
    channel_id,
    submitted_at,
    {{ salesmp_local_date('submitted_at') }} as submitted_date,
    {{ salesmp_month_start(salesmp_local_date('submitted_at')) }} as submitted_month,
    nps_score,
    csat_score,
    comment,
    _partition_date,
    _source_file,
    _line_number,
    _ingested_at
from ranked
where record_rank = 1
