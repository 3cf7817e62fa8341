-- mart_customer_rfm as of each complete month end ME <= D, using only order records that had
-- arrived by ME (_partition_date <= ME), so segment migration can be read month by month.
with month_ends as (
    select
        months.month,
        months.month_end
    from {{ ref('int_calendar_months') }} as months
    cross join {{ ref('int_as_of_date') }} as as_of
    where months.month_end <= as_of.as_of_date
),

versions_as_of as (
    select
        month_ends.month,
        month_ends.month_end,
        versions.order_id,
        versions.customer_id,
        versions.order_date,
        versions.amount,
        versions.status,
        row_number() over (
            partition by month_ends.month, versions.order_id
            order by
                versions.updated_at desc,
                versions._partition_date desc,
                versions._source_file desc,
                versions._line_number desc
        ) as record_rank
    from {{ ref('int_order_versions') }} as versions
    inner join month_ends on versions.arrival_month <= month_ends.month
),

purchases as (
    select
        month_end as snapshot_date,
        customer_id,
        order_id,
        order_date,
        amount
    from versions_as_of
    where record_rank = 1 and status = 'paid' and order_date <= month_end
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
