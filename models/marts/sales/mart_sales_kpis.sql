-- The sales KPI scorecard: one all-channels row per calendar month and one row per channel and
-- month with a sales target; each KPI with its target or threshold (seed kpi_targets) and an ok
-- flag, and the count of KPIs met. Definitions: _care.yml.
with as_of as (
    select
        as_of_date,
        as_of_month
    from {{ ref('int_as_of_date') }}
),

thresholds as (
    select
        attainment_ok,
        new_customers_target_default,
        retention_rate_ok,
        repeat_purchase_rate_ok,
        cycle_days_ok,
        aov_growth_yoy_ok,
        csat_ok
    from {{ ref('int_kpi_thresholds') }}
),

targets as (
    select
        {{ salesmp_month_start('targets.month') }} as month,
        targets.channel_id,
        targets.revenue_target,
        targets.new_customers_target
    from {{ ref('stg_sales_targets') }} as targets
    cross join as_of
    where targets.month <= as_of.as_of_month and targets._partition_date <= as_of.as_of_date
),

target_channels as (
    select distinct channel_id from targets
),

all_channel_targets as (
    -- the all-channels target of a month: the sum of its channels' non-NULL targets
    select
        month,
        sum(revenue_target) as revenue_target,
        sum(new_customers_target) as new_customers_target
    from targets
    group by month
),

-- A scope is one row family: grain 'all' (every channel) or grain 'channel' (one channel with a
-- target). scope_key is '' for 'all' and the channel_id otherwise, so scopes join on non-NULL keys.
kpi_rows as (
    select
        'all' as grain,
        '' as scope_key,
        cast(null as {{ dbt.type_string() }}) as channel_id,
        calendar.month,
        all_targets.revenue_target,
        coalesce(all_targets.new_customers_target, thresholds.new_customers_target_default) as new_customers_target
    from {{ ref('int_sales_calendar_months') }} as calendar
    cross join thresholds
    left join all_channel_targets as all_targets on calendar.month = all_targets.month
    union all
    select
        'channel' as grain,
        targets.channel_id as scope_key,
        targets.channel_id,
        targets.month,
        targets.revenue_target,
        targets.new_customers_target
    from targets
),

purchases as (
    select
        purchases.customer_id,
        purchases.channel_id,
        purchases.order_month,
        purchases.amount
    from {{ ref('int_purchases') }} as purchases
),

-- Every purchase figure below starts from one pass over the purchases, down to a row per customer,
-- channel and month; the scopes and the KPIs are then computed from these counts.
customer_channel_months as (
    select
        customer_id,
        channel_id,
        order_month,
        count(*) as purchases,
        sum(amount) as revenue
    from purchases
    group by customer_id, channel_id, order_month
),

monthly_sales as (
    select
        scoped.grain,
        scoped.scope_key,
        scoped.month,
        sum(scoped.revenue) as revenue,
        sum(scoped.purchases) as orders
    from (
        select
            'all' as grain,
            '' as scope_key,
            customer_channel_months.order_month as month,
            customer_channel_months.revenue,
            customer_channel_months.purchases
        from customer_channel_months
        union all
        select
            'channel' as grain,
            customer_channel_months.channel_id as scope_key,
            customer_channel_months.order_month as month,
            customer_channel_months.revenue,
            customer_channel_months.purchases
        from customer_channel_months
        inner join target_channels on customer_channel_months.channel_id = target_channels.channel_id
    ) as scoped
    group by scoped.grain, scoped.scope_key, scoped.month
),

customer_months as (
    -- each customer's purchases per month within the scope
    select
        'all' as grain,
        '' as scope_key,
        customer_id,
        order_month,
        sum(purchases) as purchases
    from customer_channel_months
    group by customer_id, order_month
    union all
    select
        'channel' as grain,
        customer_channel_months.channel_id as scope_key,
        customer_channel_months.customer_id,
        customer_channel_months.order_month,
        customer_channel_months.purchases
    from customer_channel_months
    inner join target_channels on customer_channel_months.channel_id = target_channels.channel_id
),

customer_month_sequence as (
    -- each month a customer bought in (within the scope), its rank and the next month they bought in
    select
        grain,
        scope_key,
        customer_id,
        order_month,
        purchases,
        row_number() over (
            partition by grain, scope_key, customer_id
            order by order_month
        ) as month_rank,
        lead(order_month) over (
            partition by grain, scope_key, customer_id
            order by order_month
        ) as next_month
    from customer_months
),

customer_firsts as (
    -- customers by the months of their first and second purchase within the scope. order_month is
    -- the month of order_ts, so the second purchase falls in the first month when that month has two
    -- or more purchases, and otherwise in the next month the customer bought in (NULL if none).
    select
        firsts.grain,
        firsts.scope_key,
        firsts.first_month,
        firsts.second_month,
        count(*) as customers
    from (
        select
            grain,
            scope_key,
            order_month as first_month,
            case when purchases >= 2 then order_month else next_month end as second_month
        from customer_month_sequence
        where month_rank = 1
    ) as firsts
    group by firsts.grain, firsts.scope_key, firsts.first_month, firsts.second_month
),

purchase_gaps as (
    -- customers by a month they bought in and the next month they bought in again (NULL if none)
    select
        grain,
        scope_key,
        order_month,
        next_month,
        count(*) as customers
    from customer_month_sequence
    group by grain, scope_key, order_month, next_month
),

first_purchases as (
    select
        first_purchase_month,
        first_channel_id
    from {{ ref('int_customer_first_purchases') }}
),

new_customers as (
    select
        scoped.grain,
        scoped.scope_key,
        scoped.month,
        count(*) as new_customers
    from (
        select
            'all' as grain,
            '' as scope_key,
            first_purchases.first_purchase_month as month
        from first_purchases
        union all
        select
            'channel' as grain,
            first_purchases.first_channel_id as scope_key,
            first_purchases.first_purchase_month as month
        from first_purchases
        inner join target_channels on first_purchases.first_channel_id = target_channels.channel_id
    ) as scoped
    group by scoped.grain, scoped.scope_key, scoped.month
),

won_leads as (
    select
        cohorts.channel_id,
        cohorts.cohort_month,
        cohorts.cycle_days
    from {{ ref('int_lead_cohorts') }} as cohorts
    where cohorts.reached_won
),

sales_cycles as (
    select
        scoped.grain,
        scoped.scope_key,
        scoped.month,
        count(*) as won_leads,
        {{ salesmp_percentile_cont('scoped.cycle_days', 0.5) }} as cycle_days_median
    from (
        select
            'all' as grain,
            '' as scope_key,
            won_leads.cohort_month as month,
            won_leads.cycle_days
        from won_leads
        union all
        select
            'channel' as grain,
            won_leads.channel_id as scope_key,
            won_leads.cohort_month as month,
            won_leads.cycle_days
        from won_leads
        inner join target_channels on won_leads.channel_id = target_channels.channel_id
    ) as scoped
    group by scoped.grain, scoped.scope_key, scoped.month
),

retention as (
    -- A buyer of M-5..M-3 counts once in the base of M: through the last month up to M-3 they bought
    -- in, i.e. a month in M-5..M-3 whose next purchase month is after M-3 (or none). They are retained
    -- when that next purchase month is at most M (so in M-2..M).
    select
        kpi_rows.grain,
        kpi_rows.scope_key,
        kpi_rows.month,
        sum(
            case
                when
                    purchase_gaps.next_month is null
                    or purchase_gaps.next_month > {{ salesmp_add_months('kpi_rows.month', -3) }}
                    then purchase_gaps.customers
                else 0
            end
        ) as retention_base,
        sum(
            case
                when
                    purchase_gaps.next_month > {{ salesmp_add_months('kpi_rows.month', -3) }}
                    and purchase_gaps.next_month <= kpi_rows.month
                    then purchase_gaps.customers
                else 0
            end
        ) as retained
    from kpi_rows
    inner join purchase_gaps
        on
            kpi_rows.grain = purchase_gaps.grain
            and kpi_rows.scope_key = purchase_gaps.scope_key
            and {{ salesmp_add_months('kpi_rows.month', -5) }} <= purchase_gaps.order_month
            and {{ salesmp_add_months('kpi_rows.month', -3) }} >= purchase_gaps.order_month
    group by kpi_rows.grain, kpi_rows.scope_key, kpi_rows.month
),

repeat_to_date as (
    select
        kpi_rows.grain,
        kpi_rows.scope_key,
        kpi_rows.month,
        sum(customer_firsts.customers) as customers_to_date,
        sum(
            case when customer_firsts.second_month <= kpi_rows.month then customer_firsts.customers else 0 end
        ) as repeat_customers_to_date
    from kpi_rows
    inner join customer_firsts
        on
            kpi_rows.grain = customer_firsts.grain
            and kpi_rows.scope_key = customer_firsts.scope_key
            and kpi_rows.month >= customer_firsts.first_month
    group by kpi_rows.grain, kpi_rows.scope_key, kpi_rows.month
),

nps as (
    select
        grain,
        coalesce(channel_id, '') as scope_key,
        month,
        nps,
        csat
    from {{ ref('mart_nps') }}
    where grain = 'all' or grain = 'channel'
),

figures as (
    select
        kpi_rows.grain,
        kpi_rows.channel_id,
        kpi_rows.month,
        cast(coalesce(sales.revenue, 0) as decimal(18, 2)) as revenue,
        cast(kpi_rows.revenue_target as decimal(18, 2)) as revenue_target,
        cast(coalesce(new_customers.new_customers, 0) as bigint) as new_customers,
        cast(kpi_rows.new_customers_target as bigint) as new_customers_target,
        cast(coalesce(retention.retention_base, 0) as bigint) as retention_base,
        cast(coalesce(retention.retained, 0) as bigint) as retained,
        cast(coalesce(repeat_to_date.customers_to_date, 0) as bigint) as customers_to_date,
        cast(coalesce(repeat_to_date.repeat_customers_to_date, 0) as bigint) as repeat_customers_to_date,
        cast(coalesce(sales_cycles.won_leads, 0) as bigint) as won_leads,
        sales_cycles.cycle_days_median,
        cast(coalesce(sales.orders, 0) as bigint) as orders,
        {{ salesmp_money_div('sales.revenue', 'sales.orders') }} as avg_order_value,
        {{ salesmp_money_div('sales_year_before.revenue', 'sales_year_before.orders') }}
            as avg_order_value_year_before,
        cast(nps_month.csat as double) as csat,
        cast(nps_month.nps as double) as nps,
        cast(nps_month.nps - nps_quarter_before.nps as double) as nps_change_qoq
    from kpi_rows
    left join monthly_sales as sales
        on
            kpi_rows.grain = sales.grain
            and kpi_rows.scope_key = sales.scope_key
            and kpi_rows.month = sales.month
    left join monthly_sales as sales_year_before
        on
            kpi_rows.grain = sales_year_before.grain
            and kpi_rows.scope_key = sales_year_before.scope_key
            and {{ salesmp_add_months('kpi_rows.month', -12) }} = sales_year_before.month
    left join new_customers
        on
            kpi_rows.grain = new_customers.grain
            and kpi_rows.scope_key = new_customers.scope_key
            and kpi_rows.month = new_customers.month
    left join retention
        on
            kpi_rows.grain = retention.grain
            and kpi_rows.scope_key = retention.scope_key
            and kpi_rows.month = retention.month
    left join repeat_to_date
        on
            kpi_rows.grain = repeat_to_date.grain
            and kpi_rows.scope_key = repeat_to_date.scope_key
            and kpi_rows.month = repeat_to_date.month
    left join sales_cycles
        on
            kpi_rows.grain = sales_cycles.grain
            and kpi_rows.scope_key = sales_cycles.scope_key
            and kpi_rows.month = sales_cycles.month
    left join nps as nps_month
        on
            kpi_rows.grain = nps_month.grain
            and kpi_rows.scope_key = nps_month.scope_key
            and kpi_rows.month = nps_month.month
    left join nps as nps_quarter_before
        on
            kpi_rows.grain = nps_quarter_before.grain
            and kpi_rows.scope_key = nps_quarter_before.scope_key
            and {{ salesmp_add_months('kpi_rows.month', -3) }} = nps_quarter_before.month
),

flags as (
    -- flags at a threshold compare exact DECIMAL products (102.60 of 114.00 is exactly 90 %)
    select
        figures.*,
        {{ salesmp_ratio('figures.revenue', 'figures.revenue_target') }} as attainment,
        case
            when figures.revenue_target > 0 then figures.revenue >= figures.revenue_target * thresholds.attainment_ok
        end as attainment_ok,
        figures.new_customers >= figures.new_customers_target as new_customers_ok,
        {{ salesmp_ratio('figures.retained', 'figures.retention_base') }} as retention_rate,
        case
            when figures.retention_base > 0
                then figures.retained >= figures.retention_base * thresholds.retention_rate_ok
        end as retention_ok,
        {{ salesmp_ratio('figures.repeat_customers_to_date', 'figures.customers_to_date') }} as repeat_purchase_rate,
        case
            when figures.customers_to_date > 0
                then figures.repeat_customers_to_date >= figures.customers_to_date * thresholds.repeat_purchase_rate_ok
        end as repeat_purchase_ok,
        figures.cycle_days_median <= cast(thresholds.cycle_days_ok as double) as cycle_days_ok,
        {{ salesmp_ratio(
            salesmp_cents('figures.avg_order_value'),
            salesmp_cents('figures.avg_order_value_year_before'),
        ) }} - 1 as aov_growth_yoy,
        figures.avg_order_value
        >= figures.avg_order_value_year_before * (1 + thresholds.aov_growth_yoy_ok) as aov_growth_ok,
        figures.csat >= cast(thresholds.csat_ok as double) as csat_ok
    from figures
    cross join thresholds
)

select
    month,
    grain,
    channel_id,
    revenue,
    revenue_target,
    attainment,
    attainment_ok,
    new_customers,
    new_customers_target,
    new_customers_ok,
    retention_base,
    retained,
    retention_rate,
    retention_ok,
    customers_to_date,
    repeat_customers_to_date,
    repeat_purchase_rate,
    repeat_purchase_ok,
    won_leads,
    cycle_days_median,
    cycle_days_ok,
    orders,
    avg_order_value,
    avg_order_value_year_before,
    aov_growth_yoy,
    aov_growth_ok,
    csat,
    csat_ok,
    nps,
    nps_change_qoq,
    cast(
        case when attainment_ok then 1 else 0 end
        + case when new_customers_ok then 1 else 0 end
        + case when retention_ok then 1 else 0 end
        + case when repeat_purchase_ok then 1 else 0 end
        + case when cycle_days_ok then 1 else 0 end
        + case when aov_growth_ok then 1 else 0 end
        + case when csat_ok then 1 else 0 end
        as bigint
    ) as kpis_met
from flags
