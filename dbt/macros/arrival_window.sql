{#- The arrival window of incremental models: raw rows whose _partition_date is in
    [var('min_date'), var('max_date')). Dagster passes both per partition; without them every
    arrival is read. When the model is not an incremental run (the table does not exist yet, a full
    refresh, a table model) only max_date applies, so a first windowed run builds the same table
    as the sequence of daily runs up to that window. -#}
{% macro arrival_window(column='_partition_date') -%}
    {%- set min_date = var('min_date', none) -%}
    {%- set max_date = var('max_date', none) -%}
    {%- set clauses = [] -%}
    {#- a unit test of a table model has no `this`, and is_incremental() would fail on it -#}
    {%- set appends = this is not none and is_incremental() -%}
    {%- if min_date and appends -%}
        {%- do clauses.append(column ~ " >= cast('" ~ salesmp_iso_date(min_date) ~ "' as date)") -%}
    {%- endif -%}
    {%- if max_date -%}
        {%- do clauses.append(column ~ " < cast('" ~ salesmp_iso_date(max_date) ~ "' as date)") -%}
    {%- endif -%}
    {{ clauses | join(' and ') if clauses else '1 = 1' }}
{%- endmacro %}

{#- A var date checked to be ISO (YYYY-MM-DD) before it is written into SQL. -#}
{% macro salesmp_iso_date(value) -%}
    {%- set text = value | string -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) -%}
        {{ exceptions.raise_compiler_error("min_date / max_date must be ISO dates (YYYY-MM-DD), got " ~ text) }}
    {%- endif -%}
    {{ text }}
{%- endmacro %}

{#- The last day covered by the run: max_date - 1 when Dagster passes a window, else none. -#}
{% macro window_last_day() -%}
    {%- set max_date = var('max_date', none) -%}
    {%- if max_date -%}
        {{ salesmp_add_days("cast('" ~ salesmp_iso_date(max_date) ~ "' as date)", -1) }}
    {%- else -%}
        cast(null as date)
    {%- endif -%}
{%- endmacro %}

{#- The contract's rule for the latest record of a key: updated_at desc (feeds that have it), then
    _partition_date, _source_file, _line_number desc. Rank 1 is the latest record. -#}
{% macro latest_record_rank(key_columns, has_updated_at) -%}
    row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by
            {% if has_updated_at -%} updated_at desc, {% endif -%}
            _partition_date desc, _source_file desc, _line_number desc
    )
{%- endmacro %}

{#- Whether a stored row's _partition_date is a day the run re-reads from raw: on or after the
    window's first day on an incremental run with a window (every day otherwise). The raw rows of
    those days replace whatever an earlier delivery of them left in a table. -#}
{% macro in_arrival_window(column) -%}
    {%- set min_date = var('min_date', none) -%}
    {%- if min_date and this is not none and is_incremental() -%}
        ({{ column }} >= cast('{{ salesmp_iso_date(min_date) }}' as date))
    {%- else -%}
        (1 = 1)
    {%- endif -%}
{%- endmacro %}

{#- Post-hook of the incremental facts: delete the stored rows of window days whose key no raw
    record of the window names any more (a re-delivered day that withdrew them). Their other records,
    from before the window, were ranked by latest_arrivals_ctes and have replaced them already; a row
    still on a window day has none. raw_keys maps a key column to its expression over raw when it
    is not a raw column (int_order_versions' arrival_month). -#}
{% macro withdraw_missing_keys(feed, key_columns, raw_keys={}) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} as stored
        where
            {{ in_arrival_window('stored._partition_date') }}
            and not exists (
                select 1 from {{ source('raw', feed) }} as arrived
                where
                    {{ arrival_window('arrived._partition_date') }}
                    {%- for key in key_columns %}
                    and {{ raw_keys.get(key, 'arrived.' ~ key) }} = stored.{{ key }}
                    {%- endfor %}
            )
    {%- endif -%}
{%- endmacro %}
