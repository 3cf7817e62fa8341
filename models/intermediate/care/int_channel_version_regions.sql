-- The authorized regions of each channel version (dim_channels), one row per region: the
-- delivered ';'-separated list split, each element trimmed, empty elements dropped, duplicates
-- removed. Split with dbt.split_part over a series of part numbers so any engine gives the same rows.
with versions as (
    select
        channel_id,
        version_number,
        authorized_regions,
        {{ dbt.length('authorized_regions') }}
        - {{ dbt.length(dbt.replace('authorized_regions', "';'", "''")) }}
        + 1 as part_count
    from {{ ref('dim_channels') }}
    where authorized_regions is not null
),

part_numbers as (
    {{ dbt.generate_series(var('max_authorized_region_parts', 1000)) }}
),

parts as (
    select
        versions.channel_id,
        versions.version_number,
        trim({{ dbt.split_part('versions.authorized_regions', "';'", 'part_numbers.generated_number') }})
            as authorized_region
    from versions
    inner join part_numbers on part_numbers.generated_number <= versions.part_count
)

select distinct
    channel_id,
    version_number,
    authorized_region
from parts
where authorized_region != ''
