-- Loyalty points and tiers per known customer (the customers feed). Points and lifetime revenue
-- count purchases only (a refunded order earns nothing); tier minimums and benefits come from the
-- seed loyalty_tiers. Definitions: _care.yml.
with known_customers as (
    select customer_id
    from {{ ref('dim_customers') }}
    where not is_inferred
),

tiers as (
    select
        loyalty_tier,
        tier_rank,
        min_lifetime_revenue,
        benefits
    from {{ ref('loyalty_tiers') }}
),

purchase_totals as (
    select
        customer_id,
        sum(cast(floor(amount) as bigint)) as points,
        sum(amount) as lifetime_revenue
    from {{ ref('int_purchases') }}
    group by customer_id
),

customer_totals as (
    select
        known_customers.customer_id,
        cast(coalesce(purchase_totals.points, 0) as bigint) as points,
        cast(coalesce(purchase_totals.lifetime_revenue, 0) as decimal(18, 2)) as lifetime_revenue
    from known_customers
    left join purchase_totals on known_customers.customer_id = purchase_totals.customer_id
),

reached_tiers as (
    -- the highest tier whose minimum the lifetime revenue reaches
    select
        customer_totals.customer_id,
        max(tiers.tier_rank) as tier_rank
    from customer_totals
    inner join tiers on customer_totals.lifetime_revenue >= tiers.min_lifetime_revenue
    group by customer_totals.customer_id
),

customer_tiers as (
    select
        customer_totals.customer_id,
        customer_totals.points,
        customer_totals.lifetime_revenue,
        current_tier.loyalty_tier,
        current_tier.tier_rank,
        current_tier.min_lifetime_revenue,
        current_tier.benefits,
        next_tier.loyalty_tier as next_tier,
        next_tier.min_lifetime_revenue as next_tier_min_lifetime_revenue
    from customer_totals
    left join reached_tiers on customer_totals.customer_id = reached_tiers.customer_id
    left join tiers as current_tier on reached_tiers.tier_rank = current_tier.tier_rank
    left join tiers as next_tier on reached_tiers.tier_rank + 1 = next_tier.tier_rank
),

tier_purchases as (
    -- running lifetime revenue, only for customers above the lowest tier (the only ones with a tier_since)
    select
        customer_tiers.customer_id,
        customer_tiers.min_lifetime_revenue,
        purchases.order_date,
        sum(purchases.amount) over (
            partition by purchases.customer_id
            order by purchases.order_ts, purchases.order_id
            rows between unbounded preceding and current row
        ) as running_revenue
    from customer_tiers
    inner join {{ ref('int_purchases') }} as purchases on customer_tiers.customer_id = purchases.customer_id
    where customer_tiers.tier_rank > 0
),

tier_reached_dates as (
    -- the purchase whose running lifetime revenue first reaches the current tier's minimum
    select
        customer_id,
        min(order_date) as tier_since
    from tier_purchases
    where running_revenue >= min_lifetime_revenue
    group by customer_id
)

select
    customer_tiers.customer_id,
    customer_tiers.points,
    customer_tiers.lifetime_revenue,
    customer_tiers.loyalty_tier,
    customer_tiers.tier_rank,
    tier_reached_dates.tier_since,
    customer_tiers.next_tier,
    cast(customer_tiers.next_tier_min_lifetime_revenue - customer_tiers.lifetime_revenue as decimal(18, 2))
        as amount_to_next_tier,
    customer_tiers.benefits
from customer_tiers
left join tier_reached_dates on customer_tiers.customer_id = tier_reached_dates.customer_id
