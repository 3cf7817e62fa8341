-- The CLV cohort of each channel and month (mart_channel_health) with its lifetime gross margin,
-- clv_cohort_revenue * gross_margin * expected_lifetime_years (seed mart_thresholds), exact.
select
    health.channel_id,
    health.month,
    health.clv_cohort_customers,
    health.clv_cohort_revenue,
    cast(
        cast(health.clv_cohort_revenue as decimal(38, 2))
        * {{ mart_threshold('gross_margin') }}
        * {{ mart_threshold('expected_lifetime_years') }}
        as decimal(38, 12)
    ) as clv_cohort_lifetime_margin
from {{ ref('mart_channel_health') }} as health
