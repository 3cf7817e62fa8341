-- Cross-region selling by partner channels, per channel and month of the order date: the share of
-- judged partner purchases shipped outside the authorized regions of the time. Definitions: _care.yml.
with judged as (
    select
        channel_id,
        order_month,
        amount,
        ship_region,
        is_conflict
    from {{ ref('int_partner_order_judgements') }}
),

monthly as (
    select
        channel_id,
        order_month as month,
        count(*) as partner_orders,
        count(case when is_conflict then 1 end) as conflict_orders,
        cast(sum(case when is_conflict then amount else 0 end) as decimal(18, 2)) as conflict_revenue
    from judged
    group by channel_id, order_month
),

conflict_regions as (
    select distinct
        channel_id,
        order_month,
        ship_region
    from judged
    where is_conflict
),

region_lists as (
    select
        channel_id,
        order_month,
        {{ dbt.listagg('ship_region', "';'", 'order by ship_region') }} as unauthorized_regions
    from conflict_regions
    group by channel_id, order_month
)

select
    monthly.channel_id,
    monthly.month,
    monthly.partner_orders,
    monthly.conflict_orders,
    monthly.conflict_revenue,
    {{ salesmp_ratio('monthly.conflict_orders', 'monthly.partner_orders') }} as conflict_share,
    region_lists.unauthorized_regions
from monthly
left join region_lists
    on
        monthly.channel_id = region_lists.channel_id
        and monthly.month = region_lists.order_month
