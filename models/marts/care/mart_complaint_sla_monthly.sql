-- Customer-voice SLA per month of opened_at: one all-channels row per month (grain 'all') and one
-- row per channel and month (grain 'channel'; tickets without a channel count only in 'all').
-- Definitions: _care.yml.
with tickets as (
    select
        month,
        channel_id,
        category,
        severity,
        response_minutes,
        responded_within_2h,
        resolved_within_24h,
        response_due,
        resolution_due,
        is_open,
        response_breached,
        resolution_breached
    from {{ ref('mart_complaint_sla') }}
),

grain_rows as (
    select
        'all' as grain,
        cast(null as {{ dbt.type_string() }}) as channel_id,
        tickets.month,
        tickets.category,
        tickets.severity,
        tickets.response_minutes,
        tickets.responded_within_2h,
        tickets.resolved_within_24h,
        tickets.response_due,
        tickets.resolution_due,
        tickets.is_open,
        tickets.response_breached,
        tickets.resolution_breached
    from tickets
    union all
    select
        'channel' as grain,
        tickets.channel_id,
        tickets.month,
        tickets.category,
        tickets.severity,
        tickets.response_minutes,
        tickets.responded_within_2h,
        tickets.resolved_within_24h,
        tickets.response_due,
        tickets.resolution_due,
        tickets.is_open,
        tickets.response_breached,
        tickets.resolution_breached
    from tickets
    where tickets.channel_id is not null
),

monthly as (
    select
        grain,
        channel_id,
        month,
        count(*) as tickets,
        count(case when response_due then 1 end) as response_due,
        count(case when response_due and responded_within_2h then 1 end) as responded_within_2h,
        count(case when resolution_due then 1 end) as resolution_due,
        count(case when resolution_due and resolved_within_24h then 1 end) as resolved_within_24h,
        {{ salesmp_percentile_cont('response_minutes', 0.5) }} as response_minutes_median,
        {{ salesmp_percentile_cont('response_minutes', 0.9) }} as response_minutes_p90,
        count(case when is_open then 1 end) as open_tickets,
        count(case when response_breached then 1 end) as open_response_breaches,
        count(case when resolution_breached then 1 end) as open_resolution_breaches,
        count(case when category = 'quality' then 1 end) as category_quality,
        count(case when category = 'delivery' then 1 end) as category_delivery,
        count(case when category = 'service' then 1 end) as category_service,
        count(case when category = 'billing' then 1 end) as category_billing,
        count(case when category = 'other' then 1 end) as category_other,
        count(case when severity = 'low' then 1 end) as severity_low,
        count(case when severity = 'medium' then 1 end) as severity_medium,
        count(case when severity = 'high' then 1 end) as severity_high
    from grain_rows
    group by grain, channel_id, month
)

select
    grain,
    channel_id,
    month,
    tickets,
    response_due,
    responded_within_2h,
    {{ salesmp_ratio('responded_within_2h', 'response_due') }} as responded_within_2h_share,
    resolution_due,
    resolved_within_24h,
    {{ salesmp_ratio('resolved_within_24h', 'resolution_due') }} as resolved_within_24h_share,
    response_minutes_median,
    response_minutes_p90,
    open_tickets,
    open_response_breaches,
    open_resolution_breaches,
    category_quality,
    category_delivery,
    category_service,
    category_billing,
    category_other,
    severity_low,
    severity_medium,
    severity_high
from monthly
