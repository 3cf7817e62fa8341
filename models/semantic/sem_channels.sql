-- The current version of every channel (inferred members included): the channel dimensions of the
-- semantic layer, read as the marts read them (current channel_type, not the type at the event).
select
    channel_id,
    channel_name,
    channel_type,
    sub_type,
    region
from {{ ref('dim_channels') }}
where is_current
