{#- Engine differences live here, one adapter.dispatch macro each (default__, duckdb__, spark__).
    Models call these and dbt's cross-database macros only. -#}

{#- Local calendar date of an instant in var('tz'). -#}
{% macro salesmp_local_date(ts) -%}
    {{ return(adapter.dispatch('salesmp_local_date', 'salesmp')(ts)) }}
{%- endmacro %}
{# trap: Postgres-style AT TIME ZONE turns a timestamptz into the wall clock of the zone. #}
{% macro default__salesmp_local_date(ts) -%}
    cast(({{ ts }}) at time zone '{{ var("tz") }}' as date)
{%- endmacro %}
{# trap: casting a TIMESTAMPTZ to DATE in DuckDB uses the session TimeZone, not the business zone. #}
{% macro duckdb__salesmp_local_date(ts) -%}
    cast(timezone('{{ var("tz") }}', {{ ts }}) as date)
{%- endmacro %}
{# trap: Spark timestamps carry no zone; from_utc_timestamp assumes the session zone is UTC. #}
{% macro spark__salesmp_local_date(ts) -%}
    to_date(from_utc_timestamp({{ ts }}, '{{ var("tz") }}'))
{%- endmacro %}

{#- First day of the month of a date, as DATE. -#}
{% macro salesmp_month_start(d) -%}
    {{ return(adapter.dispatch('salesmp_month_start', 'salesmp')(d)) }}
{%- endmacro %}
{# trap: date_trunc returns a TIMESTAMP on DuckDB and Postgres; month keys must stay DATE. #}
{% macro default__salesmp_month_start(d) -%}
    cast({{ dbt.date_trunc('month', d) }} as date)
{%- endmacro %}
{# trap: Spark's date_trunc also returns a TIMESTAMP; trunc(d, 'MM') keeps a DATE. #}
{% macro spark__salesmp_month_start(d) -%}
    trunc({{ d }}, 'MM')
{%- endmacro %}

{#- Last day of the month of a date, as DATE. -#}
{% macro salesmp_month_end(d) -%}
    {{ return(adapter.dispatch('salesmp_month_end', 'salesmp')(d)) }}
{%- endmacro %}
{# trap: dbt.last_day goes through timestamps on some adapters; cast back to DATE. #}
{% macro default__salesmp_month_end(d) -%}
    cast({{ dbt.last_day(d, 'month') }} as date)
{%- endmacro %}
{# trap: Spark's last_day already returns a DATE; no interval arithmetic needed. #}
{% macro spark__salesmp_month_end(d) -%}
    last_day({{ d }})
{%- endmacro %}

{#- A date plus n days / months, as DATE. -#}
{% macro salesmp_add_days(d, n) -%}
    {{ return(adapter.dispatch('salesmp_add_days', 'salesmp')(d, n)) }}
{%- endmacro %}
{# trap: DATE + INTERVAL is a TIMESTAMP on DuckDB; cast back so comparisons stay date-typed. #}
{% macro default__salesmp_add_days(d, n) -%}
    cast({{ dbt.dateadd('day', n, d) }} as date)
{%- endmacro %}
{# trap: Spark's date_add(date, int) keeps the DATE type; intervals would give a TIMESTAMP. #}
{% macro spark__salesmp_add_days(d, n) -%}
    date_add({{ d }}, {{ n }})
{%- endmacro %}

{% macro salesmp_add_months(d, n) -%}
    {{ return(adapter.dispatch('salesmp_add_months', 'salesmp')(d, n)) }}
{%- endmacro %}
{# trap: month arithmetic through intervals returns a TIMESTAMP on DuckDB; cast back to DATE. #}
{% macro default__salesmp_add_months(d, n) -%}
    cast({{ dbt.dateadd('month', n, d) }} as date)
{%- endmacro %}
{# trap: Spark's add_months clamps to the month end and keeps a DATE. #}
{% macro spark__salesmp_add_months(d, n) -%}
    add_months({{ d }}, {{ n }})
{%- endmacro %}

{#- Whole days from start to end (end - start), on dates. -#}
{% macro salesmp_days_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('salesmp_days_between', 'salesmp')(start_date, end_date)) }}
{%- endmacro %}
{# trap: some engines count datediff('day') on timestamps by elapsed 24 h; cast both to DATE first. #}
{% macro default__salesmp_days_between(start_date, end_date) -%}
    {{ dbt.datediff('cast(' ~ start_date ~ ' as date)', 'cast(' ~ end_date ~ ' as date)', 'day') }}
{%- endmacro %}

{#- A calendar month as a whole number (months since 2000-01), for gap detection. -#}
{% macro salesmp_month_number(month_start) -%}
    {{ return(adapter.dispatch('salesmp_month_number', 'salesmp')(month_start)) }}
{%- endmacro %}
{# trap: datediff('month') counts calendar boundaries on DuckDB but elapsed months elsewhere; use years and months. #}
{% macro default__salesmp_month_number(month_start) -%}
    (cast(extract(year from {{ month_start }}) as bigint) * 12 + cast(extract(month from {{ month_start }}) as bigint))
{%- endmacro %}

{#- Continuous percentile (linear interpolation) as an aggregate, DOUBLE. -#}
{% macro salesmp_percentile_cont(expr, fraction) -%}
    {{ return(adapter.dispatch('salesmp_percentile_cont', 'salesmp')(expr, fraction)) }}
{%- endmacro %}
{# trap: the SQL-standard form needs WITHIN GROUP; engines without it fall back to their own name. #}
{% macro default__salesmp_percentile_cont(expr, fraction) -%}
    cast(percentile_cont({{ fraction }}) within group (order by {{ expr }}) as double)
{%- endmacro %}
{# trap: DuckDB's quantile() is the discrete kind; quantile_cont interpolates like percentile_cont. #}
{% macro duckdb__salesmp_percentile_cont(expr, fraction) -%}
    cast(quantile_cont({{ expr }}, {{ fraction }}) as double)
{%- endmacro %}
{# trap: Spark's percentile_approx is approximate; percentile() is the exact interpolated one. #}
{% macro spark__salesmp_percentile_cont(expr, fraction) -%}
    cast(percentile({{ expr }}, {{ fraction }}) as double)
{%- endmacro %}

{#- ceil(buckets * cume_dist()) computed from integer counts: equal values share a score. -#}
{% macro salesmp_ceil_cume_dist(buckets, order_by, partition_by=none) -%}
    {{ return(adapter.dispatch('salesmp_ceil_cume_dist', 'salesmp')(buckets, order_by, partition_by)) }}
{%- endmacro %}
{# trap: buckets * cume_dist() rounds twice in floating point (5 * 0.6 can exceed 3); divide integer counts once. #}
{% macro default__salesmp_ceil_cume_dist(buckets, order_by, partition_by=none) -%}
    {%- set part = 'partition by ' ~ partition_by if partition_by else '' -%}
    cast(ceil(
        cast({{ buckets }} * count(*) over ({{ part }} order by {{ order_by }}) as double)
        / count(*) over ({{ part }})
    ) as bigint)
{%- endmacro %}
{# trap: DuckDB's / is float division; // on integers gives the exact ceiling without floats. #}
{% macro duckdb__salesmp_ceil_cume_dist(buckets, order_by, partition_by=none) -%}
    {%- set part = 'partition by ' ~ partition_by if partition_by else '' -%}
    (({{ buckets }} * count(*) over ({{ part }} order by {{ order_by }}) + count(*) over ({{ part }}) - 1)
        // count(*) over ({{ part }}))
{%- endmacro %}

{#- Wide integer type for exact money arithmetic in cents. -#}
{% macro salesmp_type_wide_int() -%}
    {{ return(adapter.dispatch('salesmp_type_wide_int', 'salesmp')()) }}
{%- endmacro %}
{# trap: products of cents and scaled thresholds overflow BIGINT. #}
{% macro default__salesmp_type_wide_int() -%}
    numeric(38, 0)
{%- endmacro %}
{# trap: DuckDB DECIMAL division returns DOUBLE; HUGEINT keeps // exact. #}
{% macro duckdb__salesmp_type_wide_int() -%}
    hugeint
{%- endmacro %}
{# trap: Spark has no 128-bit integer; DECIMAL(38,0) holds the same range. #}
{% macro spark__salesmp_type_wide_int() -%}
    decimal(38, 0)
{%- endmacro %}

{#- numerator / denominator on whole numbers, rounded to a whole number halves away from zero;
    NULL when the denominator is not positive. -#}
{% macro salesmp_div_half_away(numerator, denominator) -%}
    {{ return(adapter.dispatch('salesmp_div_half_away', 'salesmp')(numerator, denominator)) }}
{%- endmacro %}
{# trap: round() on a float quotient rounds 0.125 down when it is stored as 0.12499...; stay in integers. #}
{% macro default__salesmp_div_half_away(numerator, denominator) -%}
    case when ({{ denominator }}) > 0 then
        sign({{ numerator }}) * floor(
            (2 * abs(cast({{ numerator }} as {{ salesmp_type_wide_int() }})) + ({{ denominator }}))
            / (2 * cast({{ denominator }} as {{ salesmp_type_wide_int() }}))
        )
    end
{%- endmacro %}
{# trap: DuckDB's / on integers is float division; // is the exact integer floor. #}
{% macro duckdb__salesmp_div_half_away(numerator, denominator) -%}
    case when ({{ denominator }}) > 0 then
        sign(cast({{ numerator }} as hugeint)) * (
            (2 * abs(cast({{ numerator }} as hugeint)) + cast({{ denominator }} as hugeint))
            // (2 * cast({{ denominator }} as hugeint))
        )
    end
{%- endmacro %}
{# trap: Spark's / is decimal division with scale limits; div is the exact integer quotient. #}
{% macro spark__salesmp_div_half_away(numerator, denominator) -%}
    case when ({{ denominator }}) > 0 then
        cast(sign({{ numerator }}) as bigint) * (
            (2 * abs(cast({{ numerator }} as decimal(38, 0))) + cast({{ denominator }} as decimal(38, 0)))
            div (2 * cast({{ denominator }} as decimal(38, 0)))
        )
    end
{%- endmacro %}

{#- The value of `value` on the row with the smallest `key` of a group (keys unique in the group). -#}
{% macro salesmp_arg_min(value, key) -%}
    {{ return(adapter.dispatch('salesmp_arg_min', 'salesmp')(value, key)) }}
{%- endmacro %}

{% macro default__salesmp_arg_min(value, key) -%}
    arg_min({{ value }}, {{ key }})
{%- endmacro %}

{% macro spark__salesmp_arg_min(value, key) -%}
    min_by({{ value }}, {{ key }})
{%- endmacro %}
