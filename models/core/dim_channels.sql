-- Conformed channel dimension, SCD2: one row per version of a channel's master record
-- (valid_from inclusive, valid_to exclusive, is_current on the open version), plus an inferred
-- member (channel_type 'unknown', is_inferred) for every channel_id seen in facts but not in the master.
with versions as (
    select
        channel_id,
        version_number,
        channel_name,
        channel_type,
        sub_type,
        region,
        authorized_regions,
        status,
        valid_from,
        valid_to,
        valid_to is null as is_current,
        false as is_inferred
    from {{ ref('int_channel_versions') }}
),

seen_in_facts as (
    select channel_id
    from {{ ref('fct_orders') }}
    union
    select channel_id
    from {{ ref('fct_leads') }}
    union
    select channel_id
    from {{ ref('fct_channel_activity') }}
    union
    select channel_id
    from {{ ref('fct_survey_responses') }}
    where channel_id is not null
    union
    select channel_id
    from {{ ref('fct_complaints') }}
    where channel_id is not null
),

inferred as (
    select
        seen_in_facts.channel_id,
        cast(1 as bigint) as version_number,
        cast(null as varchar) as channel_name,
        'unknown' as channel_type,
        cast(null as varchar) as sub_type,
        cast(null as varchar) as region,
        cast(null as varchar) as authorized_regions,
        cast(null as varchar) as status,
        cast(null as timestamp with time zone) as valid_from,
        cast(null as timestamp with time zone) as valid_to,
        true as is_current,
        true as is_inferred
    from seen_in_facts
    left join versions on seen_in_facts.channel_id = versions.channel_id
    where versions.channel_id is null
)

select * from versions
union all
select * from inferred
