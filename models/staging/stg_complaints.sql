-- Customer-voice tickets, latest record per ticket_id.
with records as (
    select
        {{ raw_column_list('complaints', indent=8) }},
        {{ latest_record_rank(['ticket_id'], true) }} as record_rank
    from {{ source('raw', 'complaints') }}
)

select
    {{ raw_column_list('complaints', indent=4) }}
from records
where record_rank = 1
