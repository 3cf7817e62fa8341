-- Every calendar month from the earliest order or partition up to the month of D.
with bounds as (
    select
        {{ salesmp_month_start('min(first_date)') }} as first_month,
        max(as_of.as_of_month) as last_month
    from (
        select min(partition_date) as first_date from {{ ref('stg_ingest_log') }}
        union all
        select min(order_date) as first_date from {{ ref('int_order_versions') }}
    ) as starts
    cross join {{ ref('int_as_of_date') }} as as_of
),

month_offsets as (
    {{ dbt.generate_series(var('calendar_max_months')) }}
),

months as (
    select {{ salesmp_add_months('bounds.first_month', 'month_offsets.generated_number - 1') }} as month
    from bounds
    cross join month_offsets
)

select
    months.month,
    {{ salesmp_month_end('months.month') }} as month_end,
    {{ salesmp_month_number('months.month') }} as month_number
from months
cross join bounds
where months.month <= bounds.last_month
