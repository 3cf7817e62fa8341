-- Conflict orders: purchases through a partner channel shipped to a region the channel was not
-- authorized for when the order was placed. Definitions: _care.yml.
select
    order_id,
    channel_id,
    customer_id,
    order_ts,
    order_date,
    order_month as month,
    amount,
    ship_region,
    authorized_regions,
    channel_record_updated_at
from {{ ref('int_partner_order_judgements') }}
where is_conflict
