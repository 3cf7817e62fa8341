{#- A business threshold from the seed mart_thresholds, as a scalar subquery (DECIMAL(18,6)).
    The singular test assert_mart_thresholds_complete fails when a name is missing. -#}
{% macro mart_threshold(name) -%}
    (select threshold_value from {{ ref('mart_thresholds') }} where threshold_name = '{{ name }}')
{%- endmacro %}
