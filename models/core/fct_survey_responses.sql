{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='response_id',
        on_schema_change='fail',
        post_hook="{{ withdraw_missing_keys('surveys', ['response_id']) }}",
    )
}}
-- Survey answers, latest record per response_id; incremental on the arrival partition.
with {{ latest_arrivals_ctes('surveys', ['response_id'], false) }}

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
