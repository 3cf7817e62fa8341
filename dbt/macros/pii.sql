{#- Personal data never leaves staging in clear: a keyed pseudonym and a masked display form. -#}

{#- 13812341234 -> 138****1234; shorter than 8 characters -> ****. -#}
{% macro salesmp_mask_phone(column) -%}
    case
        when {{ column }} is null then null
        when {{ dbt.length('trim(' ~ column ~ ')') }} >= 8 then
            {{ dbt.concat(["substr(trim(" ~ column ~ "), 1, 3)", "'****'", dbt.right('trim(' ~ column ~ ')', 4)]) }}
        else '****'
    end
{%- endmacro %}

{#- zhang.wei@example.com -> z***@example.com; without @ -> ***. -#}
{% macro salesmp_mask_email(column) -%}
    case
        when {{ column }} is null then null
        when {{ dbt.position("'@'", column) }} > 1 then
            {{ dbt.concat([
                "substr(trim(" ~ column ~ "), 1, 1)",
                "'***'",
                "substr(trim(" ~ column ~ "), " ~ dbt.position("'@'", 'trim(' ~ column ~ ')') ~ ")",
            ]) }}
        else '***'
    end
{%- endmacro %}

{#- Zhang Wei -> Z**; keeps the first character only. -#}
{% macro salesmp_mask_name(column) -%}
    case
        when {{ column }} is null then null
        else {{ dbt.concat(["substr(trim(" ~ column ~ "), 1, 1)", "'**'"]) }}
    end
{%- endmacro %}

{#- Keyed pseudonym: HMAC-SHA256 (RFC 2104, hex) of lower(trim(column)) under the PII key; NULL stays
    NULL. The HMAC's padded keys come from the session variables salesmp_pii_ipad / salesmp_pii_opad,
    set on every warehouse connection by the dbt-duckdb plugin (dagster_project/transform/pii_plugin.py),
    so the key is in no compiled SQL. unit_tests: may pass vars pii_key_ipad / pii_key_opad instead. -#}
{% macro pii_pseudonym(column) -%}
    {{ return(adapter.dispatch('pii_pseudonym', 'salesmp')(column)) }}
{%- endmacro %}

{#- trap: DuckDB has no hmac(); sha256 over blobs (unhex, ||, encode) builds it from two digests. -#}
{% macro default__pii_pseudonym(column) -%}
    {%- set ipad = "'" ~ var('pii_key_ipad') ~ "'" if var('pii_key_ipad', none) else "getvariable('salesmp_pii_ipad')" -%}
    {%- set opad = "'" ~ var('pii_key_opad') ~ "'" if var('pii_key_opad', none) else "getvariable('salesmp_pii_opad')" -%}
    case
        when {{ column }} is null then null
        when {{ ipad }} is null or {{ opad }} is null then
            error('No PII key on this connection: dbt needs the pii_plugin of dbt/profiles.yml (run it through salesmp or make).')
        else sha256(unhex({{ opad }}) || unhex(sha256(unhex({{ ipad }}) || encode(lower(trim({{ column }}))))))
    end
{%- endmacro %}
