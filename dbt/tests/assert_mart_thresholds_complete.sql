-- Every threshold the models read through mart_threshold() exists in the seed with a value.
with required as (
    select 'strategic_revenue_365d' as threshold_name
    union all select 'growth_min_f_score'
    union all select 'cycle_target_days'
    union all select 'nps_low_sample'
    union all select 'gross_margin'
    union all select 'expected_lifetime_years'
    union all select 'cac_clv_ratio'
    union all select 'cac_trigger_months'
    union all select 'roi_top_share'
)

select required.threshold_name
from required
left join {{ ref('mart_thresholds') }} as thresholds
    on required.threshold_name = thresholds.threshold_name
where thresholds.threshold_value is null
