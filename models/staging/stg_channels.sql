-- Channel master as it stands now: latest snapshot record per channel_id.
with records as (
    select
        {{ raw_column_list('channels', indent=8) }},
        {{ latest_record_rank(['channel_id'], true) }} as record_rank
    from {{ source('raw', 'channels') }}
)

select
    {{ raw_column_list('channels', indent=4) }}
from records
where record_rank = 1
