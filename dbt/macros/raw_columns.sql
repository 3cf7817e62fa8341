{#- The columns of each raw feed as the loader writes them: the feed contract's columns, then the
    lineage columns. It mirrors dagster_project/ingest/feeds.py (one place in Python for the contract);
    tests/test_dbt_project.py keeps the two in step. -#}
{% macro raw_feed_columns(feed) -%}
    {%- set contract = {
        'customers': ['customer_id', 'customer_type', 'name', 'phone', 'email', 'region', 'industry', 'signup_ts', 'updated_at'],
        'channels': ['channel_id', 'channel_name', 'channel_type', 'sub_type', 'region', 'authorized_regions', 'status', 'updated_at'],
        'channel_activity': ['activity_date', 'channel_id', 'visits', 'avg_visit_seconds', 'inquiries', 'carts', 'spend'],
        'leads': ['lead_id', 'channel_id', 'stage', 'stage_ts', 'customer_id', 'industry'],
        'orders': ['order_id', 'customer_id', 'channel_id', 'order_ts', 'amount', 'status', 'updated_at', 'ship_region', 'is_referral'],
        'surveys': ['response_id', 'customer_id', 'channel_id', 'submitted_at', 'nps_score', 'csat_score', 'comment'],
        'complaints': ['ticket_id', 'customer_id', 'channel_id', 'opened_at', 'first_response_at', 'resolved_at', 'category', 'severity', 'updated_at'],
        'sales_targets': ['month', 'channel_id', 'revenue_target', 'new_customers_target']
    } -%}
    {{ return(contract[feed] + ['_partition_date', '_source_file', '_line_number', '_ingested_at']) }}
{%- endmacro %}

{#- The raw columns of a feed as a select list, one per line at the given indent. -#}
{% macro raw_column_list(feed, indent=8) -%}
    {{ raw_feed_columns(feed) | join(',\n' ~ ' ' * indent) }}
{%- endmacro %}

{#- The CTEs every incremental fact shares, ending in `ranked` (record_rank 1 = the latest record).
    `arrivals` reads the raw rows of the run's arrival window. On an incremental run the raw rows of
    the window days are the whole truth about those days (a re-delivered day replaces its partition),
    so `candidates` adds, for the keys the window names:
    - the stored rows that came from before the window (a late-arriving older record never
      overwrites a newer one);
    - for keys whose stored row came from a window day (`redelivered`), their raw records from before
      the window, since the stored row may be one the new delivery withdrew.
    A stored row of a window day whose key no raw record of the window names any more is deleted by
    the post-hook `withdraw_missing_keys`, so the fact equals a full build of the same raw. -#}
{% macro latest_arrivals_ctes(feed, key_columns, has_updated_at) -%}
arrivals as (
    select
        {{ raw_column_list(feed, indent=8) }}
    from {{ source('raw', feed) }}
    where {{ arrival_window() }}
),

{% if is_incremental() %}
    redelivered as (
        select {{ key_columns | join(', ') }}
        from {{ this }}
        where {{ in_arrival_window('_partition_date') }}
    ),
{% endif %}

candidates as (
    select * from arrivals
    {% if is_incremental() %}
        union all
        select
            stored.{{ raw_feed_columns(feed) | join(',\n            stored.') }}
        from {{ this }} as stored
        where
            not {{ in_arrival_window('stored._partition_date') }}
            and exists (
                select 1 from arrivals
                where {{ keys_match('arrivals', 'stored', key_columns) }}
            )
        union all
        select
            earlier.{{ raw_feed_columns(feed) | join(',\n            earlier.') }}
        from {{ source('raw', feed) }} as earlier
        where
            not {{ in_arrival_window('earlier._partition_date') }}
            and exists (
                select 1 from redelivered
                where {{ keys_match('redelivered', 'earlier', key_columns) }}
            )
    {% endif %}
),

ranked as (
    select
        *,
        {{ latest_record_rank(key_columns, has_updated_at) }} as record_rank
    from candidates
)
{%- endmacro %}

{#- `left.k1 = right.k1 and ...` over the key columns. -#}
{% macro keys_match(left, right, key_columns) -%}
    {%- for key in key_columns %}{{ left }}.{{ key }} = {{ right }}.{{ key }}{{ ' and ' if not loop.last }}{% endfor -%}
{%- endmacro %}
