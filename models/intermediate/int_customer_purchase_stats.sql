{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='customer_id',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where frequency = 0 and next_purchase_date is null",
    )
}}
-- depends_on: {{ source('raw', 'orders') }}
-- Per-customer purchase history as of D, kept up to date from the day's changes: an incremental run
-- recomputes only the touched customers from their orders in fct_orders (merge on
-- customer_id); every other row stays as stored. A touched customer left without any paid order
-- gets a row of zeros that the post-hook deletes, so the table equals a full build. Finding the
-- customers of withdrawn orders costs one pass over the paid facts (a count and a min per customer).
with as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

{% if is_incremental() %}
    window_orders as (
        select order_id from {{ source('raw', 'orders') }}
        where {{ arrival_window() }}
    ),

    fact_purchases as (
        select
            orders.customer_id,
            count(*) filter (where orders.order_date <= as_of.as_of_date) as purchases,
            min(orders.order_date) filter (where orders.order_date > as_of.as_of_date) as next_purchase_date
        from {{ ref('fct_orders') }} as orders
        cross join as_of
        where orders.is_paid
        group by orders.customer_id
    ),

    -- Touched: every customer any record of a window order ever named (the new and the previous
    -- owner), and stored rows that D moved past: a purchase now after D, or a later one now on or before it.
    touched_customers as (
        select order_records.customer_id
        from {{ source('raw', 'orders') }} as order_records
        where order_records.order_id in (select window_orders.order_id from window_orders)
        union
        select stored.customer_id
        from {{ this }} as stored
        cross join as_of
        where
            stored.last_purchase_date > as_of.as_of_date
            or stored.next_purchase_date <= as_of.as_of_date
        -- ... and customers a re-delivered day withdrew a paid order from: no raw record names that
        -- order any more, but the stored purchase count or next purchase no longer matches the facts.
        union
        select stored.customer_id
        from {{ this }} as stored
        left join fact_purchases on stored.customer_id = fact_purchases.customer_id
        where
            stored.frequency != coalesce(fact_purchases.purchases, 0)
            or stored.next_purchase_date is distinct from fact_purchases.next_purchase_date
    ),
{% endif %}

paid_orders as (
    select
        orders.order_id,
        orders.customer_id,
        orders.channel_id,
        orders.order_ts,
        orders.order_date,
        orders.order_month,
        orders.amount,
        orders.order_date <= as_of.as_of_date as is_purchase
    from {{ ref('fct_orders') }} as orders
    cross join as_of
    where orders.is_paid
    {% if is_incremental() %}
        and orders.customer_id in (select touched_customers.customer_id from touched_customers)
    {% endif %}
),

customers as (
    select distinct customer_id
    from {% if is_incremental() %}touched_customers{% else %}paid_orders{% endif %}
    where customer_id is not null
),

-- The first purchase by the rule of int_purchases: earliest order_ts, then order_id.
first_purchases as (
    select
        customer_id,
        order_id as first_order_id,
        channel_id as first_channel_id,
        order_date as first_purchase_date,
        order_month as first_purchase_month
    from (
        select
            *,
            row_number() over (partition by customer_id order by order_ts, order_id) as purchase_rank
        from paid_orders
        where is_purchase
    ) as ranked
    where purchase_rank = 1
),

purchase_days as (
    select
        customer_id,
        order_date,
        count(*) as day_purchases,
        sum(amount) as day_revenue
    from paid_orders
    where is_purchase
    group by customer_id, order_date
),

purchase_totals as (
    select
        purchase_days.customer_id,
        max(purchase_days.order_date) as last_purchase_date,
        sum(purchase_days.day_purchases) as frequency,
        sum(purchase_days.day_revenue) as monetary,
        count(*) as purchase_day_count,
        sum(
            case
                when purchase_days.order_date > first_purchases.first_purchase_date then purchase_days.day_revenue
                else 0
            end
        ) as repeat_revenue
    from purchase_days
    inner join first_purchases on purchase_days.customer_id = first_purchases.customer_id
    group by purchase_days.customer_id
),

pending_purchases as (
    select
        customer_id,
        min(order_date) as next_purchase_date
    from paid_orders
    where not is_purchase
    group by customer_id
)

select
    customers.customer_id,
    first_purchases.first_order_id,
    first_purchases.first_channel_id,
    first_purchases.first_purchase_date,
    first_purchases.first_purchase_month,
    purchase_totals.last_purchase_date,
    cast(coalesce(purchase_totals.frequency, 0) as bigint) as frequency,
    cast(coalesce(purchase_totals.monetary, 0) as decimal(18, 2)) as monetary,
    cast(coalesce(purchase_totals.purchase_day_count, 0) as bigint) as purchase_day_count,
    cast(coalesce(purchase_totals.repeat_revenue, 0) as decimal(18, 2)) as repeat_revenue,
    pending_purchases.next_purchase_date
from customers
left join first_purchases on customers.customer_id = first_purchases.customer_id
left join purchase_totals on customers.customer_id = purchase_totals.customer_id
left join pending_purchases on customers.customer_id = pending_purchases.customer_id
