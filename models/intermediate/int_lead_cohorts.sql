-- One row per lead: its channel (earliest stage row), cohort month (created date), the furthest
-- funnel stage it reached and, when won, its sales cycle. Only stage rows dated on or before D.
with stage_rows as (
    select
        leads.lead_id,
        leads.stage,
        leads.channel_id,
        leads.stage_ts,
        leads.stage_date,
        stages.stage_order,
        stages.is_funnel_stage
    from {{ ref('fct_leads') }} as leads
    inner join {{ ref('lead_stage_order') }} as stages on leads.stage = stages.stage
    cross join {{ ref('int_as_of_date') }} as as_of
    where leads.stage_date <= as_of.as_of_date
),

ordered as (
    select
        *,
        row_number() over (partition by lead_id order by stage_ts, stage_order) as stage_sequence
    from stage_rows
),

per_lead as (
    select
        lead_id,
        max(case when stage_sequence = 1 then channel_id end) as channel_id,
        max(case when stage = 'created' then stage_date end) as created_row_date,
        max(case when stage_sequence = 1 then stage_date end) as first_stage_date,
        max(case when is_funnel_stage then stage_order end) as furthest_stage_order,
        max(case when stage = 'won' then stage_date end) as won_date,
        max(case when stage = 'lost' then 1 else 0 end) = 1 as is_lost
    from ordered
    group by lead_id
),

funnel_orders as (
    select
        max(case when stage = 'qualified' then stage_order end) as qualified_order,
        max(case when stage = 'proposal' then stage_order end) as proposal_order,
        max(case when stage = 'won' then stage_order end) as won_order
    from {{ ref('lead_stage_order') }}
),

cohorts as (
    select
        per_lead.lead_id,
        per_lead.channel_id,
        coalesce(per_lead.created_row_date, per_lead.first_stage_date) as created_date,
        per_lead.won_date,
        per_lead.is_lost,
        coalesce(per_lead.furthest_stage_order >= funnel_orders.qualified_order, false) as reached_qualified,
        coalesce(per_lead.furthest_stage_order >= funnel_orders.proposal_order, false) as reached_proposal,
        coalesce(per_lead.furthest_stage_order >= funnel_orders.won_order, false) as reached_won
    from per_lead
    cross join funnel_orders
)

select
    lead_id,
    channel_id,
    created_date,
    {{ salesmp_month_start('created_date') }} as cohort_month,
    reached_qualified,
    reached_proposal,
    reached_won,
    is_lost,
    won_date,
    case
        when won_date is not null then {{ salesmp_days_between('created_date', 'won_date') }}
    end as cycle_days
from cohorts
