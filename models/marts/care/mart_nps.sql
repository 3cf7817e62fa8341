-- NPS and CSAT per month at three grains (grain column: channel, all, tier). A response's latest
-- record counts; per customer and month only the latest answer counts, once per grain key.
-- Definitions: _marts.yml (mart_nps).
with answers as (
    select
        surveys.response_id,
        surveys.customer_id,
        surveys.channel_id,
        surveys.submitted_at,
        surveys.submitted_month as month,
        surveys.nps_score,
        surveys.csat_score
    from {{ ref('fct_survey_responses') }} as surveys
    cross join {{ ref('int_as_of_date') }} as as_of
    where surveys.submitted_date <= as_of.as_of_date
),

latest_per_customer as (
    select
        *,
        row_number() over (
            partition by customer_id, month
            order by submitted_at desc, response_id desc
        ) as answer_rank
    from answers
),

latest_per_customer_channel as (
    select
        *,
        row_number() over (
            partition by customer_id, month, channel_id
            order by submitted_at desc, response_id desc
        ) as answer_rank
    from answers
    where channel_id is not null
),

counted as (
    select
        'channel' as grain,
        channel_id,
        cast(null as varchar) as customer_tier,
        month,
        nps_score,
        csat_score
    from latest_per_customer_channel
    where answer_rank = 1

    union all

    select
        'all' as grain,
        cast(null as varchar) as channel_id,
        cast(null as varchar) as customer_tier,
        month,
        nps_score,
        csat_score
    from latest_per_customer
    where answer_rank = 1

    union all

    select
        'tier' as grain,
        cast(null as varchar) as channel_id,
        coalesce(tiers.customer_tier, 'potential') as customer_tier,
        latest_per_customer.month,
        latest_per_customer.nps_score,
        latest_per_customer.csat_score
    from latest_per_customer
    left join {{ ref('mart_customer_tiers') }} as tiers
        on latest_per_customer.customer_id = tiers.customer_id
    where latest_per_customer.answer_rank = 1
),

monthly as (
    select
        grain,
        channel_id,
        customer_tier,
        coalesce(channel_id, customer_tier, 'all') as grain_key,
        month,
        count(*) as responses,
        cast(sum(case when nps_score >= 9 then 1 else 0 end) as bigint) as promoters,
        cast(sum(case when nps_score between 7 and 8 then 1 else 0 end) as bigint) as passives,
        cast(sum(case when nps_score <= 6 then 1 else 0 end) as bigint) as detractors,
        cast(sum(case when csat_score >= 4 then 1 else 0 end) as bigint) as csat_satisfied,
        count(csat_score) as csat_answers
    from counted
    group by grain, channel_id, customer_tier, month
),

scored as (
    select
        *,
        cast(100 * (promoters - detractors) as double) / responses as nps,
        cast(promoters as double) / responses as promoter_share,
        cast(detractors as double) / responses as detractor_share
    from monthly
)

select
    scored.grain,
    scored.grain_key,
    scored.channel_id,
    scored.customer_tier,
    scored.month,
    scored.responses,
    scored.promoters,
    scored.passives,
    scored.detractors,
    scored.nps,
    100 * 1.96 * sqrt(
        (
            scored.promoter_share + scored.detractor_share
            - (scored.promoter_share - scored.detractor_share) * (scored.promoter_share - scored.detractor_share)
        ) / scored.responses
    ) as nps_moe_95,
    scored.responses < {{ mart_threshold('nps_low_sample') }} as low_sample,
    {{ salesmp_ratio('scored.csat_satisfied', 'scored.csat_answers') }} as csat,
    scored.nps - previous.nps as nps_change
from scored
left join scored as previous
    on
        scored.grain = previous.grain
        and scored.grain_key = previous.grain_key
        and previous.month = {{ salesmp_add_months('scored.month', -1) }}
