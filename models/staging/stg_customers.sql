-- Customer master, latest record per customer_id; name, phone and email only hashed and masked.
with records as (
    select
        {{ raw_column_list('customers', indent=8) }},
        {{ latest_record_rank(['customer_id'], true) }} as record_rank
    from {{ source('raw', 'customers') }}
)

select
    customer_id,
    customer_type,
    {{ salesmp_pii_hash('name') }} as name_sha256,
    {{ salesmp_mask_name('name') }} as name_masked,
    {{ salesmp_pii_hash('phone') }} as phone_sha256,
    {{ salesmp_mask_phone('phone') }} as phone_masked,
    {{ salesmp_pii_hash('email') }} as email_sha256,
    {{ salesmp_mask_email('email') }} as email_masked,
    region,
    industry,
    signup_ts,
    updated_at,
    _partition_date,
    _source_file,
    _line_number,
    _ingested_at
from records
where record_rank = 1
