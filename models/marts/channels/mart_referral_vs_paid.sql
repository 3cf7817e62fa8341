-- Referral against paid acquisition per calendar month: lead-cohort win rates of referral channels
-- (sub_type 'referral' in the current channel master) and of paid channels (every other channel
-- with spend > 0 in the month), new customers and the paid CAC. Definitions: _care.yml.
with as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

months as (
    select month
    from {{ ref('int_sales_calendar_months') }}
),

referral_channels as (
    select distinct channel_id
    from {{ ref('dim_channels') }}
    where is_current and not is_inferred and sub_type = 'referral'
),

channel_spend as (
    select
        activity.channel_id,
        activity.activity_month as month,
        sum(coalesce(activity.spend, 0)) as spend
    from {{ ref('fct_channel_activity') }} as activity
    cross join as_of
    where activity.activity_date <= as_of.as_of_date
    group by activity.channel_id, activity.activity_month
),

paid_channel_months as (
    select
        channel_spend.channel_id,
        channel_spend.month,
        channel_spend.spend
    from channel_spend
    left join referral_channels on channel_spend.channel_id = referral_channels.channel_id
    where channel_spend.spend > 0 and referral_channels.channel_id is null
),

paid_months as (
    select
        month,
        count(*) as paid_channels,
        sum(spend) as paid_spend
    from paid_channel_months
    group by month
),

cohorts as (
    select
        cohorts.cohort_month as month,
        cohorts.reached_won,
        referral_channels.channel_id is not null as is_referral_lead,
        paid_channel_months.channel_id is not null as is_paid_lead
    from {{ ref('int_lead_cohorts') }} as cohorts
    left join referral_channels on cohorts.channel_id = referral_channels.channel_id
    left join paid_channel_months
        on
            cohorts.channel_id = paid_channel_months.channel_id
            and cohorts.cohort_month = paid_channel_months.month
),

cohort_months as (
    select
        month,
        count(case when is_referral_lead then 1 end) as referral_leads,
        count(case when is_referral_lead and reached_won then 1 end) as referral_won,
        count(case when is_paid_lead then 1 end) as paid_leads,
        count(case when is_paid_lead and reached_won then 1 end) as paid_won
    from cohorts
    group by month
),

new_customers as (
    select
        first_purchases.first_purchase_month as month,
        count(case when orders.is_referral then 1 end) as referral_new_customers,
        count(paid_channel_months.channel_id) as paid_new_customers
    from {{ ref('int_customer_first_purchases') }} as first_purchases
    inner join {{ ref('fct_orders') }} as orders on first_purchases.first_order_id = orders.order_id
    left join paid_channel_months
        on
            first_purchases.first_channel_id = paid_channel_months.channel_id
            and first_purchases.first_purchase_month = paid_channel_months.month
    group by first_purchases.first_purchase_month
),

figures as (
    select
        months.month,
        coalesce(cohort_months.referral_leads, 0) as referral_leads,
        coalesce(cohort_months.referral_won, 0) as referral_won,
        coalesce(paid_months.paid_channels, 0) as paid_channels,
        coalesce(cohort_months.paid_leads, 0) as paid_leads,
        coalesce(cohort_months.paid_won, 0) as paid_won,
        coalesce(new_customers.referral_new_customers, 0) as referral_new_customers,
        cast(coalesce(paid_months.paid_spend, 0) as decimal(18, 2)) as paid_spend,
        coalesce(new_customers.paid_new_customers, 0) as paid_new_customers
    from months
    left join cohort_months on months.month = cohort_months.month
    left join paid_months on months.month = paid_months.month
    left join new_customers on months.month = new_customers.month
),

rates as (
    select
        *,
        {{ salesmp_ratio('referral_won', 'referral_leads') }} as referral_win_rate,
        {{ salesmp_ratio('paid_won', 'paid_leads') }} as paid_win_rate
    from figures
)

select
    month,
    cast(referral_leads as bigint) as referral_leads,
    cast(referral_won as bigint) as referral_won,
    referral_win_rate,
    cast(paid_channels as bigint) as paid_channels,
    cast(paid_leads as bigint) as paid_leads,
    cast(paid_won as bigint) as paid_won,
    paid_win_rate,
    referral_win_rate / nullif(paid_win_rate, 0) as referral_to_paid_ratio,
    cast(referral_new_customers as bigint) as referral_new_customers,
    paid_spend,
    cast(paid_new_customers as bigint) as paid_new_customers,
    {{ salesmp_money_div('paid_spend', 'paid_new_customers') }} as paid_cac
from rates
