-- Customer-voice SLA per ticket: response and resolution times against the limits of the seed
-- care_thresholds, and the breaches of tickets still open at the end of D. Definitions: _care.yml.
with as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

limits as (
    -- durations compare in whole microseconds, so "exactly 2 h" is exact; deadlines add whole seconds
    select
        cast(response_sla_minutes * 60000000 as bigint) as response_limit_us,
        cast(resolution_sla_hours * 3600000000 as bigint) as resolution_limit_us,
        cast(response_sla_minutes * 60 as bigint) as response_limit_seconds,
        cast(resolution_sla_hours * 3600 as bigint) as resolution_limit_seconds
    from {{ ref('int_care_thresholds') }}
),

tickets as (
    select
        complaints.ticket_id,
        complaints.customer_id,
        complaints.channel_id,
        complaints.category,
        complaints.severity,
        complaints.opened_at,
        complaints.first_response_at,
        complaints.resolved_at,
        complaints.opened_date,
        complaints.opened_month,
        {{ dbt.datediff('complaints.opened_at', 'complaints.first_response_at', 'microsecond') }} as response_us, -- noqa: LT05
        {{ dbt.datediff('complaints.opened_at', 'complaints.resolved_at', 'microsecond') }} as resolution_us, -- noqa: LT05
        limits.response_limit_us,
        limits.resolution_limit_us,
        -- an instant is before the end of D exactly when its local date is on or before D
        {{ salesmp_local_date(dbt.dateadd('second', 'limits.response_limit_seconds', 'complaints.opened_at')) }}
        <= as_of.as_of_date as response_due,
        {{ salesmp_local_date(dbt.dateadd('second', 'limits.resolution_limit_seconds', 'complaints.opened_at')) }}
        <= as_of.as_of_date as resolution_due,
        complaints.resolved_at is null
        or {{ salesmp_local_date('complaints.resolved_at') }} > as_of.as_of_date as is_open
    from {{ ref('fct_complaints') }} as complaints
    cross join as_of
    cross join limits
    where complaints.opened_date <= as_of.as_of_date
),

measured as (
    select
        *,
        response_us <= response_limit_us as responded_within_2h,
        resolution_us <= resolution_limit_us as resolved_within_24h
    from tickets
)

select
    ticket_id,
    customer_id,
    channel_id,
    category,
    severity,
    opened_at,
    first_response_at,
    resolved_at,
    opened_date,
    opened_month as month,
    cast(response_us as double) / 60000000 as response_minutes,
    cast(resolution_us as double) / 3600000000 as resolution_hours,
    responded_within_2h,
    resolved_within_24h,
    is_open,
    response_due,
    resolution_due,
    case when is_open then response_due and not coalesce(responded_within_2h, false) end as response_breached,
    case when is_open then resolution_due end as resolution_breached
from measured
