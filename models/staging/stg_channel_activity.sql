-- Daily channel traffic and spend, latest record per (activity_date, channel_id).
with records as (
    select
        {{ raw_column_list('channel_activity', indent=8) }},
        {{ latest_record_rank(['activity_date', 'channel_id'], false) }} as record_rank
    from {{ source('raw', 'channel_activity') }}
)

select
    {{ raw_column_list('channel_activity', indent=4) }}
from records
where record_rank = 1
