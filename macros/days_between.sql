{#- Whole days from start_date to end_date (end - start), both dates. DuckDB takes the unit quoted
    first; Spark's two-argument datediff takes the end first. -#}
{% macro days_between(start_date, end_date) -%}
{{ return(adapter.dispatch('days_between')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__days_between(start_date, end_date) -%}
datediff('day', {{ start_date }}, {{ end_date }})
{%- endmacro %}

{% macro spark__days_between(start_date, end_date) -%}
datediff({{ end_date }}, {{ start_date }})
{%- endmacro %}
