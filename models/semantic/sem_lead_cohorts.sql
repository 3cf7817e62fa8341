-- One row per lead dated by its creation (int_lead_cohorts): the rows of the semantic model `leads`.
select
    lead_id,
    channel_id,
    created_date,
    reached_qualified,
    reached_proposal,
    reached_won,
    cycle_days
from {{ ref('int_lead_cohorts') }}
