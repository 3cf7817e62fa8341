-- Channel master as it stands now: latest snapshot record per channel_id.
with records as (
    select
        channel_id,
        channel_name,
        channel_type,
        sub_type,
        region,
        authorized_regions,
        status,
        updated_at,
        _partition_date,
        _source_file,
        _line_number,
        _ingested_at,
        {{ latest_record_rank(['channel_id'], true) }} as record_rank
    from {{ source('raw', 'channels') }}
)

select
    channel_id,
    channel_name,
    channel_type,
    sub_type,
    region,
    authorized_regions,
    status,
    updated_at,
    _partition_date,
    _source_file,
    _line_number,
    _ingested_at
from records
where record_rank = 1
