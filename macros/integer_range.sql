{#- One row per integer first..last (inclusive; none when last < first), as a select-list item:
    `select *, {{ integer_range('a', 'b') }} as n from t`. -#}
{% macro integer_range(first, last) -%}
{{ return(adapter.dispatch('integer_range')(first, last)) }}
{%- endmacro %}

{% macro default__integer_range(first, last) -%}
unnest(range({{ first }}, {{ last }} + 1))
{%- endmacro %}

{#- Spark's sequence counts down when last < first: slice keeps none of it then. -#}
{% macro spark__integer_range(first, last) -%}
explode(slice(sequence({{ first }}, {{ last }}), 1, greatest({{ last }} - {{ first }} + 1, 0)))
{%- endmacro %}
