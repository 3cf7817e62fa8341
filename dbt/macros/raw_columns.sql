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
