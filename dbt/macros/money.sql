{#- Exact money arithmetic: amounts go to whole cents, are divided with half-away-from-zero
    rounding in integers, and come back as DECIMAL(18,2). -#}

{% macro salesmp_cents(amount) -%}
    cast(({{ amount }}) * 100 as {{ salesmp_type_wide_int() }})
{%- endmacro %}

{% macro salesmp_money_from_cents(cents) -%}
    cast(cast({{ cents }} as {{ salesmp_type_wide_int() }}) * 0.01 as decimal(18, 2))
{%- endmacro %}

{#- amount / denominator rounded to the cent, halves away from zero; NULL when denominator is 0. -#}
{% macro salesmp_money_div(amount, denominator) -%}
    {{ salesmp_money_from_cents(salesmp_div_half_away(salesmp_cents(amount), denominator)) }}
{%- endmacro %}

{#- A DECIMAL(18,6) threshold as a whole number of millionths, for exact products with cents. -#}
{% macro salesmp_micros(value) -%}
    cast(({{ value }}) * 1000000 as {{ salesmp_type_wide_int() }})
{%- endmacro %}

{#- numerator / denominator as DOUBLE; NULL when the denominator is 0. -#}
{% macro salesmp_ratio(numerator, denominator) -%}
    cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0)
{%- endmacro %}
