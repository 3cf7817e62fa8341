-- The channel master history record by record: one row per (channel_id, updated_at) of the daily
-- snapshots in raw.channels (when a snapshot repeats, the latest arrival wins by the contract's
-- rule), with the instant the next record takes over. mart_channel_conflict judges an order by the
-- record in force when it was placed (docs/mart_rules.md), so it needs every record, not only
-- the changes of content that dim_channels keeps as versions.
with records as (
    select
        channel_id,
        channel_type,
        sub_type,
        authorized_regions,
        updated_at,
        {{ latest_record_rank(['channel_id', 'updated_at'], false) }} as record_rank
    from {{ source('raw', 'channels') }}
    -- a Dagster partition run sees only the arrivals up to its window, as the capped D does
    where {{ arrival_window() }}
)

select
    channel_id,
    updated_at,
    lead(updated_at) over (partition by channel_id order by updated_at) as next_updated_at,
    row_number() over (partition by channel_id order by updated_at) = 1 as is_earliest_record,
    channel_type,
    sub_type,
    authorized_regions
from records
where record_rank = 1
