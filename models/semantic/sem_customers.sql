-- Every customer id of the customer master or of a fact, with the tier and RFM segment as of D
-- ('potential' and 'none' for a customer who never bought, as mart_nps counts them).
with known as (
    select customer_id from {{ ref('dim_customers') }}
    union
    select customer_id from {{ ref('fct_orders') }}
    union
    select customer_id from {{ ref('fct_survey_responses') }}
    where customer_id is not null
    union
    select customer_id from {{ ref('fct_complaints') }}
    where customer_id is not null
)

select
    known.customer_id,
    customers.customer_type,
    customers.region,
    coalesce(tiers.customer_tier, 'potential') as customer_tier,
    coalesce(rfm.rfm_segment, 'none') as rfm_segment
from known
left join {{ ref('dim_customers') }} as customers on known.customer_id = customers.customer_id
left join {{ ref('mart_customer_tiers') }} as tiers on known.customer_id = tiers.customer_id
left join {{ ref('mart_customer_rfm') }} as rfm on known.customer_id = rfm.customer_id
