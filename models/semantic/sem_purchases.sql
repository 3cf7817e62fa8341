-- One row per purchase (an order whose latest record is paid, dated on or before D), flagged when it
-- is the customer's first purchase: the rows of the semantic model `purchases` (_semantic.yml).
select
    purchases.order_id,
    purchases.customer_id,
    purchases.channel_id,
    purchases.order_date,
    purchases.amount,
    orders.ship_region,
    orders.is_referral,
    first_purchases.customer_id is not null as is_first_purchase
from {{ ref('int_purchases') }} as purchases
inner join {{ ref('fct_orders') }} as orders on purchases.order_id = orders.order_id
left join {{ ref('int_customer_first_purchases') }} as first_purchases
    on purchases.order_id = first_purchases.first_order_id
