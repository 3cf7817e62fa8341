{#- Month snapshots (mart_customer_rfm_history) that an incremental run rebuilds. A snapshot as of
    a month end reads only records whose _partition_date is on or before it, so the records of a
    window [min_date, max_date) change only the snapshots of month ends on or after min_date.
    A full build, or an incremental run without a window, rebuilds every month. -#}
{% macro history_months_to_build(month_end_column) -%}
    {%- set min_date = var('min_date', none) -%}
    {%- if min_date and this is not none and is_incremental() -%}
        {{ month_end_column }} >= cast('{{ salesmp_iso_date(min_date) }}' as date)
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook of mart_customer_rfm_history: before an incremental run appends the rebuilt months,
    delete them, and any snapshot after the run's D (a window that ends before the stored one). -#}
{% macro history_clear_rebuilt_months() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where
            {{ history_months_to_build('as_of_date') }}
            or as_of_date > (select as_of.as_of_date from {{ ref('int_as_of_date') }} as as_of)
    {%- endif -%}
{%- endmacro %}
