{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key=['lead_id', 'stage'],
        on_schema_change='fail',
    )
}}
-- Lead stages, latest record per (lead_id, stage); incremental on the arrival partition.
with arrivals as (
    select
        lead_id,
        stage,
        channel_id,
        stage_ts,
        customer_id,
        industry,
        _partition_date,
        _source_file,
        _line_number,
        _ingested_at
    from {{ source('raw', 'leads') }}
    where {{ arrival_window() }}
),

candidates as (
    select * from arrivals
    {% if is_incremental() %}
        union all
        select
            stored.lead_id,
            stored.stage,
            stored.channel_id,
            stored.stage_ts,
            stored.customer_id,
            stored.industry,
            stored._partition_date,
            stored._source_file,
            stored._line_number,
            stored._ingested_at
        from {{ this }} as stored
        where exists (
            select 1 from arrivals
            where arrivals.lead_id = stored.lead_id and arrivals.stage = stored.stage
        )
    {% endif %}
),

ranked as (
    select
        *,
        {{ latest_record_rank(['lead_id', 'stage'], false) }} as record_rank
    from candidates
)

select
    lead_id,
    stage,
    channel_id,
    stage_ts,
    {{ salesmp_local_date('stage_ts') }} as stage_date,
    customer_id,
    industry,
    _partition_date,
    _source_file,
    _line_number,
    _ingested_at
from ranked
where record_rank = 1
