-- Churn early warning: revenue per customer in the last four complete months and the streak of
-- months in which it fell to at most churn_decline_ratio of the month before (seed
-- care_thresholds). Definitions: _care.yml.
with as_of as (
    select
        case
            when as_of_date = as_of_month_end then as_of_month
            else {{ salesmp_add_months('as_of_month', -1) }}
        end as month_m0
    from {{ ref('int_as_of_date') }}
),

months as (
    select
        month_m0,
        {{ salesmp_add_months('month_m0', -1) }} as month_m1,
        {{ salesmp_add_months('month_m0', -2) }} as month_m2,
        {{ salesmp_add_months('month_m0', -3) }} as month_m3
    from as_of
),

thresholds as (
    select
        churn_decline_ratio,
        churn_streak_months
    from {{ ref('int_care_thresholds') }}
),

monthly_spend as (
    select
        purchases.customer_id,
        months.month_m0,
        cast(
            sum(case when purchases.order_month = months.month_m0 then purchases.amount else 0 end) as decimal(18, 2)
        ) as spend_m0,
        cast(
            sum(case when purchases.order_month = months.month_m1 then purchases.amount else 0 end) as decimal(18, 2)
        ) as spend_m1,
        cast(
            sum(case when purchases.order_month = months.month_m2 then purchases.amount else 0 end) as decimal(18, 2)
        ) as spend_m2,
        cast(
            sum(case when purchases.order_month = months.month_m3 then purchases.amount else 0 end) as decimal(18, 2)
        ) as spend_m3
    from {{ ref('int_purchases') }} as purchases
    cross join months
    where purchases.order_month >= months.month_m3 and purchases.order_month <= months.month_m0
    group by purchases.customer_id, months.month_m0
),

declines as (
    -- a month declines when the month before had revenue and it fell to at most the ratio of it
    -- (exact DECIMAL products: a fall to exactly 80 % declines, 80.01 % does not)
    select
        monthly_spend.*,
        monthly_spend.spend_m1 > 0
        and monthly_spend.spend_m0 <= monthly_spend.spend_m1 * thresholds.churn_decline_ratio as declined_m0,
        monthly_spend.spend_m2 > 0
        and monthly_spend.spend_m1 <= monthly_spend.spend_m2 * thresholds.churn_decline_ratio as declined_m1,
        monthly_spend.spend_m3 > 0
        and monthly_spend.spend_m2 <= monthly_spend.spend_m3 * thresholds.churn_decline_ratio as declined_m2,
        thresholds.churn_streak_months
    from monthly_spend
    cross join thresholds
),

streaks as (
    select
        *,
        cast(
            case
                when not declined_m0 then 0
                when not declined_m1 then 1
                when not declined_m2 then 2
                else 3
            end as bigint
        ) as decline_streak
    from declines
)

select
    streaks.customer_id,
    streaks.month_m0 as month,
    streaks.spend_m0,
    streaks.spend_m1,
    streaks.spend_m2,
    streaks.spend_m3,
    streaks.decline_streak,
    streaks.decline_streak >= streaks.churn_streak_months as churn_warning,
    rfm.customer_tier,
    rfm.rfm_segment,
    rfm.monetary,
    offers.win_back_offer
from streaks
left join {{ ref('mart_customer_rfm') }} as rfm on streaks.customer_id = rfm.customer_id
left join {{ ref('win_back_offers') }} as offers on rfm.customer_tier = offers.customer_tier
