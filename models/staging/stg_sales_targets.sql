-- Monthly targets per channel, latest record per (month, channel_id).
with records as (
    select
        {{ raw_column_list('sales_targets', indent=8) }},
        {{ latest_record_rank(['month', 'channel_id'], false) }} as record_rank
    from {{ source('raw', 'sales_targets') }}
)

select
    {{ raw_column_list('sales_targets', indent=4) }}
from records
where record_rank = 1
