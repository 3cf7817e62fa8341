-- Daily traffic and spend per channel dated on or before D: the rows of the semantic model
-- `channel_activity` (_semantic.yml), as mart_channel_funnel and mart_channel_health count them.
select
    activity.channel_id,
    activity.activity_date,
    coalesce(activity.visits, 0) as visits,
    coalesce(activity.inquiries, 0) as inquiries,
    coalesce(activity.carts, 0) as carts,
    coalesce(activity.spend, 0) as spend
from {{ ref('fct_channel_activity') }} as activity
cross join {{ ref('int_as_of_date') }} as as_of
where activity.activity_date <= as_of.as_of_date
