-- The as-of date D: the latest partition in raw.ingest_log. When Dagster passes an arrival window,
-- D is capped at its last day so the marts of a backfill step match the facts built so far.
with loaded as (
    select max(partition_date) as latest_partition_date
    from {{ ref('stg_ingest_log') }}
),

capped as (
    select
        case
            when {{ window_last_day() }} < latest_partition_date then {{ window_last_day() }}
            else latest_partition_date
        end as as_of_date
    from loaded
)

select
    as_of_date,
    {{ salesmp_month_start('as_of_date') }} as as_of_month,
    {{ salesmp_month_end('as_of_date') }} as as_of_month_end,
    {{ salesmp_add_days('as_of_date', -364) }} as trailing_365d_start
from capped
