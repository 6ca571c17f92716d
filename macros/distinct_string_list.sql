{#- Aggregate: the distinct values of a column, sorted, joined with a separator ('a, b'). -#}
{% macro distinct_string_list(column, separator) -%}
{{ return(adapter.dispatch('distinct_string_list')(column, separator)) }}
{%- endmacro %}

{% macro default__distinct_string_list(column, separator) -%}
string_agg(distinct {{ column }}, '{{ separator }}' order by {{ column }})
{%- endmacro %}

{% macro spark__distinct_string_list(column, separator) -%}
array_join(array_sort(collect_set({{ column }})), '{{ separator }}')
{%- endmacro %}
