-- NPS / CSAT answers, latest record per response_id.
with records as (
    select
        {{ raw_column_list('surveys', indent=8) }},
        {{ latest_record_rank(['response_id'], false) }} as record_rank
    from {{ source('raw', 'surveys') }}
)

select
    {{ raw_column_list('surveys', indent=4) }}
from records
where record_rank = 1
