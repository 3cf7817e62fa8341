-- Traffic and lead funnels per channel and month. Grain: (channel_id, month) with a channel_activity
-- row, a purchase or a lead cohort. Definitions: _marts.yml (mart_channel_funnel).
with channel_months as (
    select
        channel_id,
        month
    from {{ ref('int_channel_months') }}
),

activity as (
    select
        activity.channel_id,
        activity.activity_month as month,
        cast(sum(coalesce(activity.visits, 0)) as bigint) as visits,
        cast(sum(coalesce(activity.inquiries, 0)) as bigint) as inquiries,
        cast(sum(coalesce(activity.carts, 0)) as bigint) as carts,
        -- summed as exact decimals: a float sum depends on the order rows arrive in, and a full
        -- refresh must equal the daily runs bit for bit
        sum(
            case
                when activity.visits is not null and activity.avg_visit_seconds is not null
                    then cast(activity.visits * activity.avg_visit_seconds as decimal(38, 9))
            end
        ) as visit_seconds,
        sum(
            case
                when activity.visits is not null and activity.avg_visit_seconds is not null
                    then activity.visits
            end
        ) as timed_visits
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
        count(distinct customer_id) as buyers
    from {{ ref('int_purchases') }}
    group by channel_id, order_month
),

month_buyers as (
    select distinct
        channel_id,
        order_month as month,
        {{ salesmp_month_end('order_month') }} as month_end,
        customer_id
    from {{ ref('int_purchases') }}
),

-- A month's buyer is a repeat buyer when they have at least two purchases through the channel dated
-- on or before the month's end, i.e. when their second purchase through it (by date) is.
second_purchases as (
    select
        channel_id,
        customer_id,
        order_date as second_purchase_date
    from (
        select
            channel_id,
            customer_id,
            order_date,
            row_number() over (partition by channel_id, customer_id order by order_date) as purchase_number
        from {{ ref('int_purchases') }}
    ) as numbered
    where purchase_number = 2
),

repeat_buyers as (
    select
        month_buyers.channel_id,
        month_buyers.month,
        count(*) as repeat_buyers
    from month_buyers
    inner join second_purchases
        on
            month_buyers.channel_id = second_purchases.channel_id
            and month_buyers.customer_id = second_purchases.customer_id
    where second_purchases.second_purchase_date <= month_buyers.month_end
    group by month_buyers.channel_id, month_buyers.month
),

lead_cohorts as (
    select
        channel_id,
        cohort_month as month,
        count(*) as leads_created,
        cast(sum(case when reached_qualified then 1 else 0 end) as bigint) as leads_qualified,
        cast(sum(case when reached_proposal then 1 else 0 end) as bigint) as leads_proposal,
        cast(sum(case when reached_won then 1 else 0 end) as bigint) as leads_won,
        {{ salesmp_percentile_cont('cycle_days', 0.5) }} as cycle_days_median,
        {{ salesmp_percentile_cont('cycle_days', 0.9) }} as cycle_days_p90
    from {{ ref('int_lead_cohorts') }}
    group by channel_id, cohort_month
),

current_channels as (
    select
        channel_id,
        channel_type
    from {{ ref('dim_channels') }}
    where is_current
),

funnel as (
    select
        channel_months.channel_id,
        channel_months.month,
        current_channels.channel_type,
        coalesce(activity.visits, 0) as visits,
        {{ salesmp_ratio('activity.visit_seconds', 'activity.timed_visits') }} as avg_visit_seconds,
        coalesce(activity.inquiries, 0) as inquiries,
        coalesce(activity.carts, 0) as carts,
        coalesce(purchases.orders, 0) as orders,
        coalesce(purchases.buyers, 0) as buyers,
        coalesce(repeat_buyers.repeat_buyers, 0) as repeat_buyers,
        coalesce(lead_cohorts.leads_created, 0) as leads_created,
        coalesce(lead_cohorts.leads_qualified, 0) as leads_qualified,
        coalesce(lead_cohorts.leads_proposal, 0) as leads_proposal,
        coalesce(lead_cohorts.leads_won, 0) as leads_won,
        lead_cohorts.cycle_days_median,
        lead_cohorts.cycle_days_p90
    from channel_months
    left join activity
        on channel_months.channel_id = activity.channel_id and channel_months.month = activity.month
    left join purchases
        on channel_months.channel_id = purchases.channel_id and channel_months.month = purchases.month
    left join repeat_buyers
        on channel_months.channel_id = repeat_buyers.channel_id and channel_months.month = repeat_buyers.month
    left join lead_cohorts
        on channel_months.channel_id = lead_cohorts.channel_id and channel_months.month = lead_cohorts.month
    left join current_channels on channel_months.channel_id = current_channels.channel_id
),

rates as (
    select
        *,
        {{ salesmp_ratio('inquiries', 'visits') }} as inquiry_rate,
        {{ salesmp_ratio('carts', 'visits') }} as cart_rate,
        {{ salesmp_ratio('orders', 'inquiries') }} as close_rate,
        {{ salesmp_ratio('orders', 'visits') }} as visit_to_order_rate,
        {{ salesmp_ratio('repeat_buyers', 'buyers') }} as repeat_rate,
        {{ salesmp_ratio('leads_qualified', 'leads_created') }} as qualified_rate,
        {{ salesmp_ratio('leads_proposal', 'leads_qualified') }} as proposal_rate,
        {{ salesmp_ratio('leads_won', 'leads_proposal') }} as won_rate,
        {{ salesmp_ratio('leads_won', 'leads_created') }} as win_rate
    from funnel
)

select
    rates.channel_id,
    rates.month,
    rates.channel_type,
    rates.visits,
    rates.avg_visit_seconds,
    rates.inquiries,
    rates.carts,
    rates.orders,
    rates.buyers,
    rates.repeat_buyers,
    rates.inquiry_rate,
    rates.cart_rate,
    rates.close_rate,
    rates.visit_to_order_rate,
    rates.repeat_rate,
    rates.leads_created,
    rates.leads_qualified,
    rates.leads_proposal,
    rates.leads_won,
    rates.qualified_rate,
    rates.proposal_rate,
    rates.won_rate,
    rates.win_rate,
    rates.cycle_days_median,
    rates.cycle_days_p90,
    rates.cycle_days_median <= {{ mart_threshold('cycle_target_days') }} as cycle_within_target,
    (
        rates.visit_to_order_rate < benchmarks.visit_to_order_rate
        or rates.win_rate < benchmarks.win_rate
    ) as below_benchmark
from rates
left join {{ ref('channel_type_benchmarks') }} as benchmarks on rates.channel_type = benchmarks.channel_type
