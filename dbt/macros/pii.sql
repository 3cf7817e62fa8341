{#- Personal data never leaves staging in clear: a salted SHA-256 and a masked display form. -#}

{#- Salted hash of a trimmed, lower-cased value; NULL stays NULL. -#}
{% macro salesmp_pii_hash(column) -%}
    case when {{ column }} is not null then
        {{ salesmp_sha256(dbt.concat(["'" ~ var('pii_salt') ~ "'", "'|'", "lower(trim(" ~ column ~ "))"])) }}
    end
{%- endmacro %}

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

{#- Keyed pseudonym (issue 18): HMAC-SHA256 (RFC 2104) of lower(trim(column)). The padded keys
    come from dagster_project/pii_key.py:hmac_pads as vars pii_key_ipad / pii_key_opad (hex). -#}
{% macro pii_pseudonym(column) -%}
    {{ return(adapter.dispatch('pii_pseudonym', 'salesmp')(column)) }}
{%- endmacro %}

{#- trap: DuckDB has no hmac(); sha256 over blobs (unhex, ||, encode) builds it from two digests.
    Spark would use its own sha2 over binary concatenation the same way. -#}
{% macro default__pii_pseudonym(column) -%}
    case when {{ column }} is not null then
        sha256(unhex('{{ var("pii_key_opad") }}') || unhex(sha256(unhex('{{ var("pii_key_ipad") }}') || encode(lower(trim({{ column }}))))))
    end
{%- endmacro %}
