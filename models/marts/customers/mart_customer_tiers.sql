-- The tier of every known customer (customer master, latest record): from mart_customer_rfm, and
-- 'potential' for a customer who never bought.
select
    customers.customer_id,
    coalesce(rfm.customer_tier, 'potential') as customer_tier,
    rfm.customer_id is not null as has_purchase,
    rfm.f_score,
    coalesce(rfm.revenue_365d, cast(0 as decimal(18, 2))) as revenue_365d,
    as_of.as_of_date
from {{ ref('dim_customers') }} as customers
cross join {{ ref('int_as_of_date') }} as as_of
left join {{ ref('mart_customer_rfm') }} as rfm on customers.customer_id = rfm.customer_id
where not customers.is_inferred
