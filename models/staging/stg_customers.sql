-- Customer master, latest record per customer_id; name, phone and email only as keyed pseudonyms and masks.
with records as (
    select
        {{ raw_column_list('customers', indent=8) }},
        {{ latest_record_rank(['customer_id'], true) }} as record_rank
    from {{ source('raw', 'customers') }}
)

select
    customer_id,
    customer_type,
    {{ pii_pseudonym('name') }} as name_pseudonym,
    {{ salesmp_mask_name('name') }} as name_masked,
    {{ pii_pseudonym('phone') }} as phone_pseudonym,
    {{ salesmp_mask_phone('phone') }} as phone_masked,
    {{ pii_pseudonym('email') }} as email_pseudonym,
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
