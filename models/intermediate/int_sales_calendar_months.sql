-- The calendar of the sales-management marts (mart_referral_vs_paid, mart_sales_kpis) and of the
-- interview sample: every month from the first one with a purchase, a lead cohort, a channel
-- activity row or a sales target (all dated on or before D) up to the month of D, gaps included.
with as_of as (
    select
        as_of_date,
        as_of_month
    from {{ ref('int_as_of_date') }}
),

first_months as (
    select min(purchases.order_month) as first_month
    from {{ ref('int_purchases') }} as purchases
    union all
    select min(cohorts.cohort_month) as first_month
    from {{ ref('int_lead_cohorts') }} as cohorts
    union all
    select min(activity.activity_month) as first_month
    from {{ ref('fct_channel_activity') }} as activity
    cross join as_of
    where activity.activity_date <= as_of.as_of_date
    union all
    select min({{ salesmp_month_start('targets.month') }}) as first_month
    from {{ ref('stg_sales_targets') }} as targets
    cross join as_of
    where targets.month <= as_of.as_of_month and targets._partition_date <= as_of.as_of_date
    union all
    select as_of.as_of_month as first_month
    from as_of
),

bounds as (
    select
        min(first_months.first_month) as first_month,
        max(as_of.as_of_month) as last_month
    from first_months
    cross join as_of
),

month_offsets as (
    {{ dbt.generate_series(var('calendar_max_months', 1200)) }}
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
