{#- The RFM / BTYD / tier computation of mart_customer_rfm and mart_customer_rfm_history.
    Definitions: models/marts/_marts.yml. -#}

{#- From purchases: `purchases` names a CTE with snapshot_date, customer_id, order_id, order_date,
    amount: the purchases as of each snapshot (dated on or before it). Emits CTEs ending in
    `customer_rfm`, one row per (snapshot_date, customer_id). Used by the monthly history. -#}
{% macro salesmp_customer_rfm(purchases) %}
-- one row per snapshot, customer and purchase day, then one per snapshot and customer: two
-- aggregations and no join, so the monthly history (about 100M purchase rows at 10M orders)
-- stays within the DuckDB memory limit
purchase_days as (
    select
        snapshot_date,
        customer_id,
        order_date,
        count(*) as day_purchases,
        sum(amount) as day_revenue
    from {{ purchases }}
    group by snapshot_date, customer_id, order_date
),

customer_history as (
    select
        snapshot_date,
        customer_id,
        min(order_date) as first_purchase_date,
        max(order_date) as last_purchase_date,
        cast(sum(day_purchases) as bigint) as frequency,
        sum(day_revenue) as monetary,
        count(*) as purchase_day_count,
        -- revenue of the purchase days after the first
        sum(day_revenue) - {{ salesmp_arg_min('day_revenue', 'order_date') }} as repeat_revenue,
        sum(
            case
                when order_date >= {{ salesmp_add_days('snapshot_date', -364) }} then day_revenue
                else 0
            end
        ) as revenue_365d
    from purchase_days
    group by snapshot_date, customer_id
),

{{ salesmp_customer_rfm_from_history('customer_history') }}
{% endmacro %}

{#- From per-customer history: `history` names a CTE with snapshot_date, customer_id,
    first_purchase_date, last_purchase_date, frequency, monetary, purchase_day_count, repeat_revenue
    (revenue of purchase days after the first) and revenue_365d, one row per (snapshot_date,
    customer_id) with at least one purchase. Emits CTEs ending in `customer_rfm`. -#}
{% macro salesmp_customer_rfm_from_history(history) %}
customer_figures as (
    select
        history.snapshot_date,
        history.customer_id,
        history.first_purchase_date,
        history.last_purchase_date,
        {{ salesmp_days_between('history.last_purchase_date', 'history.snapshot_date') }}
            as recency_days,
        history.frequency,
        cast(history.monetary as decimal(18, 2)) as monetary,
        {{ salesmp_money_div('history.monetary', 'history.frequency') }} as avg_order_value,
        history.purchase_day_count - 1 as repeat_frequency,
        {{ salesmp_days_between('history.first_purchase_date', 'history.last_purchase_date') }}
            as recency_btyd,
        {{ salesmp_days_between('history.first_purchase_date', 'history.snapshot_date') }}
            as t_days,
        coalesce(
            {{ salesmp_money_div('history.repeat_revenue', 'history.purchase_day_count - 1') }},
            cast(0 as decimal(18, 2))
        ) as repeat_monetary_avg,
        cast(history.revenue_365d as decimal(18, 2)) as revenue_365d
    from {{ history }} as history
),

customer_scores as (
    select
        *,
        {{ salesmp_ceil_cume_dist(5, 'recency_days desc', 'snapshot_date') }} as r_score,
        {{ salesmp_ceil_cume_dist(5, 'frequency', 'snapshot_date') }} as f_score,
        {{ salesmp_ceil_cume_dist(5, 'monetary', 'snapshot_date') }} as m_score
    from customer_figures
),

customer_rfm as (
    select
        customer_scores.*,
        cast(ceil((customer_scores.f_score + customer_scores.m_score) / 2.0) as bigint) as fm_score,
        segment_map.rfm_segment,
        case
            when customer_scores.revenue_365d >= {{ mart_threshold('strategic_revenue_365d') }} then 'strategic'
            when customer_scores.f_score >= {{ mart_threshold('growth_min_f_score') }} then 'growth'
            else 'potential'
        end as customer_tier
    from customer_scores
    left join {{ ref('rfm_segment_map') }} as segment_map
        on
            customer_scores.r_score = segment_map.r_score
            and cast(ceil((customer_scores.f_score + customer_scores.m_score) / 2.0) as bigint)
            = segment_map.fm_score
)
{% endmacro %}
