-- The targets and thresholds of the sales KPI scorecard as one typed row, read from the seed
-- kpi_targets. A name missing from the seed leaves its column NULL (caught by not_null tests).
select
    cast(max(case when kpi_name = 'attainment_ok' then threshold_value end) as decimal(18, 6))
        as attainment_ok,
    cast(max(case when kpi_name = 'new_customers_target_default' then threshold_value end) as bigint)
        as new_customers_target_default,
    cast(max(case when kpi_name = 'retention_rate_ok' then threshold_value end) as decimal(18, 6))
        as retention_rate_ok,
    cast(max(case when kpi_name = 'repeat_purchase_rate_ok' then threshold_value end) as decimal(18, 6))
        as repeat_purchase_rate_ok,
    cast(max(case when kpi_name = 'cycle_days_ok' then threshold_value end) as decimal(18, 6))
        as cycle_days_ok,
    cast(max(case when kpi_name = 'aov_growth_yoy_ok' then threshold_value end) as decimal(18, 6))
        as aov_growth_yoy_ok,
    cast(max(case when kpi_name = 'csat_ok' then threshold_value end) as decimal(18, 6))
        as csat_ok
from {{ ref('kpi_targets') }}
