{#- Custom schemas are used as they are (staging, intermediate, marts, seeds), not prefixed with the
    target schema: BI tools and the pandas checks read marts.<model> on every target. The `serving`
    target (MetricFlow over the serving database, docs/metrics.md) reads the published copies, which
    live in its schema `main`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none or target.name == 'serving' -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
