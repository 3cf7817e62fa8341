{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ history_clear_rebuilt_months() }}",
    )
}}
-- mart_customer_rfm as of each complete month end ME <= D, using only order records that had
-- arrived by ME (_partition_date <= ME), so segment migration can be read month by month.
-- A snapshot depends only on records that arrived by its month end, so it never changes once
-- written: an incremental run builds only the month ends on or after its window's first day
-- (none on most days; the month that just ended on the first run after a month end) and the
-- pre-hook deletes those months (and any after D) first.
with month_ends as (
    select
        months.month,
        months.month_end
    from {{ ref('int_calendar_months') }} as months
    cross join {{ ref('int_as_of_date') }} as as_of
    where
        months.month_end <= as_of.as_of_date
        and {{ history_months_to_build('months.month_end') }}
),

-- int_order_versions holds the latest record of each order per arrival month. The latest record
-- as of a month end is the latest of those with arrival_month <= month: rank every version of an
-- order by the contract's latest-record rule over all its arrival months (1 = latest) ...
ranked_versions as (
    select
        order_id,
        arrival_month,
        customer_id,
        order_date,
        amount,
        status,
        {{ latest_record_rank(['order_id'], true) }} as recency_rank
    from {{ ref('int_order_versions') }}
    -- most runs build no month: then skip reading the versions at all
    where exists (select 1 from month_ends)
),

-- ... keep the versions that beat every version arrived before them (the running latest) ...
running_latest as (
    select
        *,
        min(recency_rank) over (
            partition by order_id
            order by arrival_month
            rows between unbounded preceding and 1 preceding
        ) as best_rank_before
    from ranked_versions
),

-- ... each of which is the order's latest record from its arrival month until the next one's.
effective_versions as (
    select
        order_id,
        customer_id,
        order_date,
        amount,
        status,
        arrival_month as effective_from_month,
        lead(arrival_month) over (partition by order_id order by arrival_month) as effective_until_month
    from running_latest
    where best_rank_before is null or recency_rank < best_rank_before
),

purchases as (
    select
        month_ends.month_end as snapshot_date,
        versions.customer_id,
        versions.order_id,
        versions.order_date,
        versions.amount
    from effective_versions as versions
    inner join month_ends
        on
            versions.effective_from_month <= month_ends.month
            and (versions.effective_until_month is null or versions.effective_until_month > month_ends.month)
    where versions.status = 'paid' and versions.order_date <= month_ends.month_end
),

{{ salesmp_customer_rfm('purchases') }}

select
    {{ salesmp_month_start('snapshot_date') }} as month,
    customer_id,
    snapshot_date as as_of_date,
    recency_days,
    frequency,
    monetary,
    avg_order_value,
    first_purchase_date,
    last_purchase_date,
    repeat_frequency,
    recency_btyd,
    t_days,
    repeat_monetary_avg,
    r_score,
    f_score,
    m_score,
    fm_score,
    rfm_segment,
    customer_tier,
    revenue_365d
from customer_rfm
