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

{#- The CTEs every incremental fact shares, ending in `ranked` (record_rank 1 = the latest record):
    `arrivals` reads the raw rows of the run's arrival window; on an incremental run `candidates` adds
    the stored rows of the same keys, so a late-arriving older record never overwrites a newer one. -#}
{% macro latest_arrivals_ctes(feed, key_columns, has_updated_at) -%}
arrivals as (
    select
        {{ raw_column_list(feed, indent=8) }}
    from {{ source('raw', feed) }}
    where {{ arrival_window() }}
),

candidates as (
    select * from arrivals
    {% if is_incremental() %}
        union all
        select
            stored.{{ raw_feed_columns(feed) | join(',\n            stored.') }}
        from {{ this }} as stored
        where exists (
            select 1 from arrivals
            where {% for key in key_columns %}arrivals.{{ key }} = stored.{{ key }}{{ ' and ' if not loop.last }}{% endfor %}
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
