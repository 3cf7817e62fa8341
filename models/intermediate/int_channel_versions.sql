-- SCD2 history of the channel master from its daily snapshots: a new version starts whenever the
-- contents change, in updated_at order. Reads every snapshot (small) so history is rebuildable.
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
        {{ latest_record_rank(['channel_id', 'updated_at'], false) }} as record_rank
    from {{ source('raw', 'channels') }}
),

states as (
    select
        channel_id,
        channel_name,
        channel_type,
        sub_type,
        region,
        authorized_regions,
        status,
        updated_at,
        {{ dbt.hash(dbt.concat([
            "coalesce(channel_name, '<null>')", "'|'",
            "coalesce(channel_type, '<null>')", "'|'",
            "coalesce(sub_type, '<null>')", "'|'",
            "coalesce(region, '<null>')", "'|'",
            "coalesce(authorized_regions, '<null>')", "'|'",
            "coalesce(status, '<null>')",
        ])) }} as content_hash
    from records
    where record_rank = 1
),

compared as (
    select
        *,
        lag(content_hash) over (partition by channel_id order by updated_at) as previous_content_hash
    from states
),

changes as (
    select *
    from compared
    where previous_content_hash is null or previous_content_hash != content_hash
)

select
    channel_id,
    row_number() over (partition by channel_id order by updated_at) as version_number,
    channel_name,
    channel_type,
    sub_type,
    region,
    authorized_regions,
    status,
    updated_at as valid_from,
    lead(updated_at) over (partition by channel_id order by updated_at) as valid_to,
    content_hash
from changes
