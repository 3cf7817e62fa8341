-- The thresholds of the customer-care marts as one typed row, read from the seed care_thresholds
-- (a business user changes a number in the seed, never in SQL). A name missing from the seed
-- leaves its column NULL, which the not_null tests of this model report.
select
    cast(max(case when threshold_name = 'churn_decline_ratio' then threshold_value end) as decimal(18, 6))
        as churn_decline_ratio,
    cast(max(case when threshold_name = 'churn_streak_months' then threshold_value end) as bigint)
        as churn_streak_months,
    cast(max(case when threshold_name = 'response_sla_minutes' then threshold_value end) as decimal(18, 6))
        as response_sla_minutes,
    cast(max(case when threshold_name = 'resolution_sla_hours' then threshold_value end) as decimal(18, 6))
        as resolution_sla_hours,
    cast(max(case when threshold_name = 'interview_sample_share' then threshold_value end) as decimal(18, 6))
        as interview_sample_share
from {{ ref('care_thresholds') }}
