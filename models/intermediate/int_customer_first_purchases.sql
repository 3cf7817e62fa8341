-- Each buyer's first purchase (earliest order_ts, then order_id) and the channel it came through,
-- read from the incrementally kept per-customer state.
select
    customer_id,
    first_order_id,
    first_channel_id,
    first_purchase_date,
    first_purchase_month
from {{ ref('int_customer_purchase_stats') }}
where frequency > 0
