-- The rows of the channel marts: every (channel_id, month) with a channel_activity row, a purchase
-- or a lead cohort, up to D. channel_id as it appears in the facts, unknown channels included.
with activity_months as (
    select
        activity.channel_id,
        activity.activity_month as month
    from {{ ref('fct_channel_activity') }} as activity
    cross join {{ ref('int_as_of_date') }} as as_of
    where activity.activity_date <= as_of.as_of_date
),

purchase_months as (
    select
        channel_id,
        order_month as month
    from {{ ref('int_purchases') }}
),

cohort_months as (
    select
        channel_id,
        cohort_month as month
    from {{ ref('int_lead_cohorts') }}
),

channel_months as (
    select
        channel_id,
        month
    from activity_months
    union
    select
        channel_id,
        month
    from purchase_months
    union
    select
        channel_id,
        month
    from cohort_months
)

select
    channel_id,
    month,
    {{ salesmp_month_end('month') }} as month_end,
    {{ salesmp_month_number('month') }} as month_number
from channel_months
