-- Conformed customer dimension: the customer master (latest record, PII only as keyed pseudonyms and masks) plus an
-- inferred member for every customer_id seen in the facts but unknown to the master.
with known as (
    select
        customer_id,
        customer_type,
        name_pseudonym,
        name_masked,
        phone_pseudonym,
        phone_masked,
        email_pseudonym,
        email_masked,
        region,
        industry,
        signup_ts,
        updated_at,
        false as is_inferred
    from {{ ref('stg_customers') }}
),

seen_in_facts as (
    select customer_id
    from {{ ref('fct_orders') }}
    union
    select customer_id
    from {{ ref('fct_survey_responses') }}
    union
    select customer_id
    from {{ ref('fct_complaints') }}
    union
    select customer_id
    from {{ ref('fct_leads') }}
    where customer_id is not null
),

inferred as (
    select
        seen_in_facts.customer_id,
        cast(null as varchar) as customer_type,
        cast(null as varchar) as name_pseudonym,
        cast(null as varchar) as name_masked,
        cast(null as varchar) as phone_pseudonym,
        cast(null as varchar) as phone_masked,
        cast(null as varchar) as email_pseudonym,
        cast(null as varchar) as email_masked,
        cast(null as varchar) as region,
        cast(null as varchar) as industry,
        cast(null as timestamp with time zone) as signup_ts,
        cast(null as timestamp with time zone) as updated_at,
        true as is_inferred
    from seen_in_facts
    left join known on seen_in_facts.customer_id = known.customer_id
    where known.customer_id is null
),

customers as (
    select * from known
    union all
    select * from inferred
)

select
    customer_id,
    customer_type,
    name_pseudonym,
    name_masked,
    phone_pseudonym,
    phone_masked,
    email_pseudonym,
    email_masked,
    region,
    industry,
    signup_ts,
    {{ salesmp_local_date('signup_ts') }} as signup_date,
    updated_at,
    is_inferred
from customers
