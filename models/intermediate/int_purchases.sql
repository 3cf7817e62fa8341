-- Purchases: orders whose latest record is paid, dated (local) on or before D.
with as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

purchases as (
    select
        orders.order_id,
        orders.customer_id,
        orders.channel_id,
        orders.order_ts,
        orders.order_date,
        orders.order_month,
        orders.amount
    from {{ ref('fct_orders') }} as orders
    cross join as_of
    where orders.is_paid and orders.order_date <= as_of.as_of_date
)

select
    order_id,
    customer_id,
    channel_id,
    order_ts,
    order_date,
    order_month,
    amount,
    row_number() over (partition by customer_id order by order_ts, order_id) = 1 as is_first_purchase
from purchases
