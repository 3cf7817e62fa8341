-- Every purchase judged for cross-region selling: the channel master record in force when the order
-- was placed (the largest updated_at <= order_ts; the earliest record for an older order) is a
-- partner record with at least one authorized region. is_conflict: the trimmed ship_region is set
-- and not among that record's authorized regions. Orders of channels raw.channels does not know
-- are not judged.
with purchases as (
    select
        order_id,
        customer_id,
        channel_id,
        order_ts,
        order_date,
        order_month,
        amount
    from {{ ref('int_purchases') }}
),

master_records as (
    select
        channel_id,
        updated_at,
        next_updated_at,
        is_earliest_record,
        channel_type
    from {{ ref('int_channel_master_records') }}
),

record_regions as (
    select
        channel_id,
        updated_at,
        authorized_region
    from {{ ref('int_channel_record_regions') }}
),

region_lists as (
    select
        channel_id,
        updated_at,
        {{ dbt.listagg('authorized_region', "';'", 'order by authorized_region') }} as authorized_regions
    from record_regions
    group by channel_id, updated_at
),

partner_purchases as (
    -- channel records first: only partner orders (a share of all purchases) look up their ship_region
    select
        purchases.order_id,
        purchases.customer_id,
        purchases.channel_id,
        purchases.order_ts,
        purchases.order_date,
        purchases.order_month,
        purchases.amount,
        master_records.updated_at as channel_record_updated_at,
        region_lists.authorized_regions
    from purchases
    inner join master_records
        on
            purchases.channel_id = master_records.channel_id
            and (purchases.order_ts >= master_records.updated_at or master_records.is_earliest_record)
            and (purchases.order_ts < master_records.next_updated_at or master_records.next_updated_at is null)
    inner join region_lists
        on
            master_records.channel_id = region_lists.channel_id
            and master_records.updated_at = region_lists.updated_at
    where master_records.channel_type = 'partner'
),

judged as (
    select
        partner_purchases.order_id,
        partner_purchases.customer_id,
        partner_purchases.channel_id,
        partner_purchases.order_ts,
        partner_purchases.order_date,
        partner_purchases.order_month,
        partner_purchases.amount,
        nullif(trim(orders.ship_region), '') as ship_region,
        partner_purchases.channel_record_updated_at,
        partner_purchases.authorized_regions
    from partner_purchases
    inner join {{ ref('fct_orders') }} as orders on partner_purchases.order_id = orders.order_id
)

select
    judged.order_id,
    judged.customer_id,
    judged.channel_id,
    judged.order_ts,
    judged.order_date,
    judged.order_month,
    judged.amount,
    judged.ship_region,
    judged.channel_record_updated_at,
    judged.authorized_regions,
    judged.ship_region is not null and authorized_match.authorized_region is null as is_conflict
from judged
left join record_regions as authorized_match
    on
        judged.channel_id = authorized_match.channel_id
        and judged.channel_record_updated_at = authorized_match.updated_at
        and judged.ship_region = authorized_match.authorized_region
