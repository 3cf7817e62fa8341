-- In-depth interview invitations per month: per current customer_tier, the ceil(share * eligible)
-- customers with the smallest md5(customer_id || month), share from the seed care_thresholds.
-- Definitions: _care.yml.
with months as (
    select month
    from {{ ref('int_sales_calendar_months') }}
),

eligible as (
    -- customers with a purchase in the 365 days before the month's start
    select distinct
        months.month,
        purchases.customer_id
    from months
    inner join {{ ref('int_purchases') }} as purchases
        on
            {{ salesmp_add_days('months.month', -365) }} <= purchases.order_date
            and months.month > purchases.order_date
),

keyed as (
    select
        eligible.month,
        coalesce(rfm.customer_tier, 'potential') as customer_tier,
        eligible.customer_id,
        {{ dbt.hash(dbt.concat([
            'eligible.customer_id',
            'cast(eligible.month as ' ~ dbt.type_string() ~ ')',
        ])) }} as sample_key
    from eligible
    left join {{ ref('mart_customer_rfm') }} as rfm on eligible.customer_id = rfm.customer_id
),

ranked as (
    select
        keyed.month,
        keyed.customer_tier,
        keyed.customer_id,
        keyed.sample_key,
        row_number() over (
            partition by keyed.month, keyed.customer_tier
            order by keyed.sample_key, keyed.customer_id
        ) as sample_rank,
        count(*) over (partition by keyed.month, keyed.customer_tier) as eligible_in_tier
    from keyed
),

sized as (
    select
        ranked.*,
        -- exact DECIMAL product, so ceil(0.1 * 30) is 3, never 4
        cast(ceil(thresholds.interview_sample_share * ranked.eligible_in_tier) as bigint) as sample_size_in_tier
    from ranked
    cross join {{ ref('int_care_thresholds') }} as thresholds
)

select
    month,
    customer_tier,
    customer_id,
    sample_key,
    sample_rank,
    eligible_in_tier,
    sample_size_in_tier
from sized
where sample_rank <= sample_size_in_tier
