{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='ticket_id',
        on_schema_change='fail',
        post_hook="{{ withdraw_missing_keys('complaints', ['ticket_id']) }}",
    )
}}
-- Complaint tickets, latest record per ticket_id; incremental on the arrival partition.
with {{ latest_arrivals_ctes('complaints', ['ticket_id'], true) }}

select
    ticket_id,
    customer_id,
    channel_id,
    opened_at,
    {{ salesmp_local_date('opened_at') }} as opened_date,
    {{ salesmp_month_start(salesmp_local_date('opened_at')) }} as opened_month,
    first_response_at,
    resolved_at,
    category,
    severity,
    updated_at,
    _partition_date,
    _source_file,
    _line_number,
    _ingested_at
from ranked
where record_rank = 1
