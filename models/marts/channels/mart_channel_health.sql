-- The channel health dashboard: spend, acquisition cost, revenue, ROI, conversion and CLV per
-- channel and month (rows as mart_channel_funnel). Definitions: _marts.yml (mart_channel_health).
with channel_months as (
    select
        channel_id,
        month,
        month_end,
        month_number
    from {{ ref('int_channel_months') }}
),

activity as (
    select
        activity.channel_id,
        activity.activity_month as month,
        cast(sum(coalesce(activity.visits, 0)) as bigint) as visits,
        sum(coalesce(activity.spend, 0)) as spend
    from {{ ref('fct_channel_activity') }} as activity
    cross join {{ ref('int_as_of_date') }} as as_of
    where activity.activity_date <= as_of.as_of_date
    group by activity.channel_id, activity.activity_month
),

purchases as (
    select
        channel_id,
        order_month as month,
        count(*) as orders,
        sum(amount) as revenue
    from {{ ref('int_purchases') }}
    group by channel_id, order_month
),

new_customers as (
    select
        first_channel_id as channel_id,
        first_purchase_month as month,
        count(*) as new_customers
    from {{ ref('int_customer_first_purchases') }}
    group by first_channel_id, first_purchase_month
),

-- CLV cohort of a row: customers acquired through the channel on or before the month's end, with
-- their revenue through any channel dated in the 365 days ending at the month's calendar end. A
-- customer's purchases are all dated on or after the first, so the cohort's revenue is the revenue
-- of every purchase by the channel's acquired customers dated in that window: summed per first
-- channel and day once, then per window, instead of per customer and month.
acquired_revenue_by_day as (
    select
        first_purchases.first_channel_id as channel_id,
        purchases.order_date,
        sum(purchases.amount) as revenue
    from {{ ref('int_purchases') }} as purchases
    inner join {{ ref('int_customer_first_purchases') }} as first_purchases
        on purchases.customer_id = first_purchases.customer_id
    group by first_purchases.first_channel_id, purchases.order_date
),

acquired_customers_by_day as (
    select
        first_channel_id as channel_id,
        first_purchase_date,
        count(*) as customers
    from {{ ref('int_customer_first_purchases') }}
    group by first_channel_id, first_purchase_date
),

clv_cohort_sizes as (
    select
        channel_months.channel_id,
        channel_months.month,
        cast(sum(acquired.customers) as bigint) as clv_cohort_customers
    from channel_months
    inner join acquired_customers_by_day as acquired
        on
            channel_months.channel_id = acquired.channel_id
            and channel_months.month_end >= acquired.first_purchase_date
    group by channel_months.channel_id, channel_months.month
),

clv_cohort_revenues as (
    select
        channel_months.channel_id,
        channel_months.month,
        sum(revenue_by_day.revenue) as clv_cohort_revenue
    from channel_months
    inner join acquired_revenue_by_day as revenue_by_day
        on
            channel_months.channel_id = revenue_by_day.channel_id
            and revenue_by_day.order_date
            between {{ salesmp_add_days('channel_months.month_end', -364) }} and channel_months.month_end
    group by channel_months.channel_id, channel_months.month
),

clv as (
    select
        sizes.channel_id,
        sizes.month,
        sizes.clv_cohort_customers,
        coalesce(revenues.clv_cohort_revenue, 0) as clv_cohort_revenue
    from clv_cohort_sizes as sizes
    left join clv_cohort_revenues as revenues
        on sizes.channel_id = revenues.channel_id and sizes.month = revenues.month
),

figures as (
    select
        channel_months.channel_id,
        channel_months.month,
        channel_months.month_number,
        current_channels.channel_type,
        cast(coalesce(activity.spend, 0) as decimal(18, 2)) as spend,
        coalesce(activity.visits, 0) as visits,
        coalesce(purchases.orders, 0) as orders,
        coalesce(new_customers.new_customers, 0) as new_customers,
        cast(coalesce(purchases.revenue, 0) as decimal(18, 2)) as revenue,
        coalesce(clv.clv_cohort_customers, 0) as clv_cohort_customers,
        cast(coalesce(clv.clv_cohort_revenue, 0) as decimal(18, 2)) as clv_cohort_revenue
    from channel_months
    left join activity
        on channel_months.channel_id = activity.channel_id and channel_months.month = activity.month
    left join purchases
        on channel_months.channel_id = purchases.channel_id and channel_months.month = purchases.month
    left join new_customers
        on channel_months.channel_id = new_customers.channel_id and channel_months.month = new_customers.month
    left join clv
        on channel_months.channel_id = clv.channel_id and channel_months.month = clv.month
    left join {{ ref('dim_channels') }} as current_channels
        on channel_months.channel_id = current_channels.channel_id and current_channels.is_current
),

ratios as (
    select
        *,
        {{ salesmp_money_div('spend', 'new_customers') }} as cac,
        -- roi from whole cents so equal ratios are equal doubles (0.30 / 0.10 = 3.00 / 1.00 for rank())
        {{ salesmp_ratio(salesmp_cents('revenue'), salesmp_cents('spend')) }} as roi,
        {{ salesmp_ratio('orders', 'visits') }} as conversion,
        -- revenue * gross_margin * lifetime_years / cohort size, in cents, rounded once
        {{ salesmp_money_from_cents(salesmp_div_half_away(
            salesmp_cents('clv_cohort_revenue')
            ~ ' * ' ~ salesmp_micros(mart_threshold('gross_margin'))
            ~ ' * ' ~ salesmp_micros(mart_threshold('expected_lifetime_years')),
            'clv_cohort_customers * 1000000000000',
        )) }} as clv
    from figures
),

flagged as (
    select
        *,
        cac > {{ mart_threshold('cac_clv_ratio') }} * clv as cac_over_30pct_clv
    from ratios
),

-- Consecutive flagged months: months minus their rank among flagged rows is constant along a run.
flagged_runs as (
    select
        channel_id,
        month,
        month_number - row_number() over (partition by channel_id order by month) as run_id
    from flagged
    where cac_over_30pct_clv
),

streaks as (
    select
        channel_id,
        month,
        row_number() over (partition by channel_id, run_id order by month) as cac_trigger_streak
    from flagged_runs
),

roi_ranks as (
    select
        channel_id,
        month,
        rank() over (partition by month order by roi desc) as roi_rank,
        count(*) over (partition by month) as channels_with_roi
    from flagged
    where roi is not null
)

select
    flagged.channel_id,
    flagged.month,
    flagged.channel_type,
    flagged.spend,
    flagged.new_customers,
    flagged.cac,
    flagged.revenue,
    flagged.roi,
    flagged.orders,
    flagged.visits,
    flagged.conversion,
    flagged.clv_cohort_customers,
    flagged.clv_cohort_revenue,
    flagged.clv,
    flagged.cac_over_30pct_clv,
    coalesce(streaks.cac_trigger_streak, 0) as cac_trigger_streak,
    coalesce(streaks.cac_trigger_streak, 0) >= {{ mart_threshold('cac_trigger_months') }} as optimisation_required,
    flagged.conversion < benchmarks.visit_to_order_rate as conversion_below_benchmark,
    coalesce(
        roi_ranks.roi_rank <= ceil({{ mart_threshold('roi_top_share') }} * roi_ranks.channels_with_roi),
        false
    ) as roi_top_20pct
from flagged
left join streaks on flagged.channel_id = streaks.channel_id and flagged.month = streaks.month
left join roi_ranks on flagged.channel_id = roi_ranks.channel_id and flagged.month = roi_ranks.month
left join {{ ref('channel_type_benchmarks') }} as benchmarks on flagged.channel_type = benchmarks.channel_type
