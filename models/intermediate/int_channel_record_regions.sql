-- The authorized regions of each channel master record, one row per region: the delivered
-- ';'-separated list split, each element trimmed, empty elements dropped, duplicates removed.
-- Split with dbt.split_part over a series of part numbers so every engine gives the same rows.
with records as (
    select
        channel_id,
        updated_at,
        authorized_regions,
        {{ dbt.length('authorized_regions') }}
        - {{ dbt.length(dbt.replace('authorized_regions', "';'", "''")) }}
        + 1 as part_count
    from {{ ref('int_channel_master_records') }}
    where authorized_regions is not null
),

part_numbers as (
    {{ dbt.generate_series(var('max_authorized_region_parts', 1000)) }}
),

parts as (
    select
        records.channel_id,
        records.updated_at,
        trim({{ dbt.split_part('records.authorized_regions', "';'", 'part_numbers.generated_number') }})
            as authorized_region
    from records
    inner join part_numbers on records.part_count >= part_numbers.generated_number
)

select distinct
    channel_id,
    updated_at,
    authorized_region
from parts
where authorized_region != ''
