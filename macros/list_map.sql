{#- A list with an expression applied to each element: list_map('prices', 'p', 'round(p, 2)').
    `element` names the element inside `expression` (DuckDB's lambda, Spark's transform). -#}
{% macro list_map(list, element, expression) -%}
{{ return(adapter.dispatch('list_map')(list, element, expression)) }}
{%- endmacro %}

{% macro default__list_map(list, element, expression) -%}
list_transform({{ list }}, lambda {{ element }}: {{ expression }})
{%- endmacro %}

{% macro spark__list_map(list, element, expression) -%}
transform({{ list }}, {{ element }} -> {{ expression }})
{%- endmacro %}
