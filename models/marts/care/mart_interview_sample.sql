-- In-depth interview invitations per month: per current customer_tier, the ceil(share * eligible)
-- customers with the smallest md5(customer_id || month), share from the seed care_thresholds.
-- Definitions: _care.yml.
{#- Eligibility window in days, as defined in _care.yml. #}
{% set eligibility_days = 365 %}
{#- Hex digits of the sample key in the prefix histogram; any length gives the same rows, 3 (4096
    buckets) keeps the ranked candidates close to the sample size. #}
{% set key_prefix_length = 3 %}
with months as (
    select month
    from {{ ref('int_sales_calendar_months') }}
),

purchase_months as (
    -- one row per customer and purchase month: within a month no gap between purchases exceeds the window
    select
        customer_id,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date
    from {{ ref('int_purchases') }}
    group by customer_id, {{ salesmp_month_start('order_date') }}
),

island_starts as (
    -- a purchase month starts a new island when its first purchase is more than the window after
    -- the customer's previous purchase
    select
        customer_id,
        first_order_date,
        last_order_date,
        case
            when
                lag(last_order_date) over (partition by customer_id order by first_order_date)
                >= {{ salesmp_add_days('first_order_date', -eligibility_days) }}
                then 0
            else 1
        end as starts_island
    from purchase_months
),

island_numbers as (
    select
        customer_id,
        first_order_date,
        last_order_date,
        sum(starts_island) over (
            partition by customer_id
            order by first_order_date
            rows between unbounded preceding and current row
        ) as island_number
    from island_starts
),

islands as (
    -- purchases of a customer no more than the window apart: together they make the customer
    -- eligible in every month after the island's first purchase and up to the window after its last
    select
        customer_id,
        min(first_order_date) as first_order_date,
        max(last_order_date) as last_order_date
    from island_numbers
    group by customer_id, island_number
),

eligible as (
    -- customers with a purchase in the window before the month's start; islands of one customer
    -- never share a month, so each (month, customer) comes once
    select
        months.month,
        islands.customer_id
    from months
    inner join islands
        on
            {{ salesmp_add_days('months.month', -eligibility_days) }} <= islands.last_order_date
            and months.month > islands.first_order_date
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

key_prefix_counts as (
    -- eligible customers per stratum and leading part of the sample key: a histogram that tells
    -- how far into the key order each sample reaches without ranking every eligible customer
    select
        month,
        customer_tier,
        substr(sample_key, 1, {{ key_prefix_length }}) as key_prefix,
        count(*) as customers
    from keyed
    group by month, customer_tier, substr(sample_key, 1, {{ key_prefix_length }})
),

prefix_running_counts as (
    select
        month,
        customer_tier,
        key_prefix,
        sum(customers) over (
            partition by month, customer_tier
            order by key_prefix
            rows between unbounded preceding and current row
        ) as customers_up_to_prefix,
        cast(sum(customers) over (partition by month, customer_tier) as {{ dbt.type_bigint() }}) as eligible_in_tier
    from key_prefix_counts
),

prefix_sized as (
    select
        prefix_running_counts.*,
        -- exact DECIMAL product, so ceil(0.1 * 30) is 3, never 4
        cast(ceil(thresholds.interview_sample_share * prefix_running_counts.eligible_in_tier) as bigint)
            as sample_size_in_tier
    from prefix_running_counts
    cross join {{ ref('int_care_thresholds') }} as thresholds
),

strata as (
    -- per stratum the first key prefix whose running count covers the sample (or the whole stratum):
    -- every sampled customer's key starts with it or a smaller prefix
    select
        month,
        customer_tier,
        eligible_in_tier,
        sample_size_in_tier,
        min(key_prefix) as last_sampled_prefix
    from prefix_sized
    where customers_up_to_prefix >= sample_size_in_tier or customers_up_to_prefix = eligible_in_tier
    group by month, customer_tier, eligible_in_tier, sample_size_in_tier
),

candidates as (
    -- keys are fixed-length hex, so a smaller key never has a larger prefix: every customer ordered
    -- before a candidate is a candidate too, and ranks among candidates are ranks in the stratum
    select
        keyed.month,
        keyed.customer_tier,
        keyed.customer_id,
        keyed.sample_key,
        strata.eligible_in_tier,
        strata.sample_size_in_tier
    from keyed
    inner join strata
        on
            keyed.month = strata.month
            and keyed.customer_tier = strata.customer_tier
    where substr(keyed.sample_key, 1, {{ key_prefix_length }}) <= strata.last_sampled_prefix
),

ranked as (
    select
        candidates.*,
        row_number() over (
            partition by candidates.month, candidates.customer_tier
            order by candidates.sample_key, candidates.customer_id
        ) as sample_rank
    from candidates
)

select
    month,
    customer_tier,
    customer_id,
    sample_key,
    sample_rank,
    eligible_in_tier,
    sample_size_in_tier
from ranked
where sample_rank <= sample_size_in_tier
