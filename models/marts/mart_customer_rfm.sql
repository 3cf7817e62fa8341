-- RFM, BTYD and tier of every customer with at least one purchase on or before D.
-- Definitions: _marts.yml (mart_customer_rfm); readings: docs/mart_rules.md.
with purchases as (
    select
        as_of.as_of_date as snapshot_date,
        purchases.customer_id,
        purchases.order_id,
        purchases.order_date,
        purchases.amount
    from {{ ref('int_purchases') }} as purchases
    cross join {{ ref('int_as_of_date') }} as as_of
),

{{ salesmp_customer_rfm('purchases') }}

select
    customer_id,
    snapshot_date as as_of_date,
    recency_days,
    frequency,
    monetary,
    avg_order_value,
    first_purchase_date,
    last_purchase_date,
    repeat_frequency,
    recency_btyd,
    t_days,
    repeat_monetary_avg,
    r_score,
    f_score,
    m_score,
    fm_score,
    rfm_segment,
    customer_tier,
    revenue_365d
from customer_rfm
