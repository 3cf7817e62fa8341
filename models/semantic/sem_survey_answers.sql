-- Survey answers dated on or before D, each flagged where it counts (mart_nps): the latest answer of
-- a customer in a month counts for customer-level grains (all, tier, segment); the latest answer of
-- a customer for a channel in a month counts for channel-level grains. Rows of `survey_answers`.
with answers as (
    select
        surveys.response_id,
        surveys.customer_id,
        surveys.channel_id,
        surveys.submitted_at,
        surveys.submitted_date,
        surveys.submitted_month,
        surveys.nps_score,
        surveys.csat_score
    from {{ ref('fct_survey_responses') }} as surveys
    cross join {{ ref('int_as_of_date') }} as as_of
    where surveys.submitted_date <= as_of.as_of_date
),

ranked as (
    select
        *,
        row_number() over (
            partition by customer_id, submitted_month
            order by submitted_at desc, response_id desc
        ) as customer_month_rank,
        row_number() over (
            partition by customer_id, submitted_month, channel_id
            order by submitted_at desc, response_id desc
        ) as customer_channel_month_rank
    from answers
)

select
    response_id,
    customer_id,
    channel_id,
    submitted_date,
    nps_score,
    csat_score,
    customer_month_rank = 1 as counts_per_customer,
    channel_id is not null and customer_channel_month_rank = 1 as counts_per_channel
from ranked
