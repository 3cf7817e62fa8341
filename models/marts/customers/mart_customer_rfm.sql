-- RFM, BTYD and tier of every customer with at least one purchase on or before D.
-- Definitions: _marts.yml (mart_customer_rfm); readings: docs/mart_rules.md.
-- The history figures come from the incrementally kept per-customer state; only revenue_365d, which
-- moves with D, is summed from the facts, over the orders dated in the 365 days ending at D.
with as_of as (
    select
        as_of_date,
        trailing_365d_start
    from {{ ref('int_as_of_date') }}
),

-- The lower bound cuts the scan to the last year; orders dated after D (rare) count 0.
recent_revenue as (
    select
        orders.customer_id,
        sum(case when orders.order_date <= as_of.as_of_date then orders.amount else 0 end) as revenue_365d
    from {{ ref('fct_orders') }} as orders
    cross join as_of
    where orders.is_paid and orders.order_date >= as_of.trailing_365d_start
    group by orders.customer_id
),

customer_history as (
    select
        as_of.as_of_date as snapshot_date,
        stats.customer_id,
        stats.first_purchase_date,
        stats.last_purchase_date,
        stats.frequency,
        stats.monetary,
        stats.purchase_day_count,
        stats.repeat_revenue,
        coalesce(recent_revenue.revenue_365d, 0) as revenue_365d
    from {{ ref('int_customer_purchase_stats') }} as stats
    cross join as_of
    left join recent_revenue on stats.customer_id = recent_revenue.customer_id
    where stats.frequency > 0
),

{{ salesmp_customer_rfm_from_history('customer_history') }}

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
