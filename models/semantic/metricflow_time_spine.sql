-- The day time spine MetricFlow joins to for metric_time: every local calendar day of the months
-- of int_calendar_months (the first order or partition month up to the month of D).
with bounds as (
    select
        min(month) as first_day,
        max(month_end) as last_day
    from {{ ref('int_calendar_months') }}
),

day_offsets as (
    {{ dbt.generate_series(var('calendar_max_months') * 31) }}
),

days as (
    select {{ salesmp_add_days('bounds.first_day', 'day_offsets.generated_number - 1') }} as date_day
    from bounds
    cross join day_offsets
)

select cast(days.date_day as date) as date_day
from days
cross join bounds
where days.date_day <= bounds.last_day
