-- Each buyer's first purchase (earliest order_ts, then order_id) and the channel it came through.
select
    customer_id,
    order_id as first_order_id,
    channel_id as first_channel_id,
    order_date as first_purchase_date,
    order_month as first_purchase_month
from {{ ref('int_purchases') }}
where is_first_purchase
