-- Orders, latest record per order_id (a refund or cancellation supersedes the paid record).
with records as (
    select
        {{ raw_column_list('orders', indent=8) }},
        {{ latest_record_rank(['order_id'], true) }} as record_rank
    from {{ source('raw', 'orders') }}
)

select
    {{ raw_column_list('orders', indent=4) }}
from records
where record_rank = 1
