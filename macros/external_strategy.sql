{#- The strategy name of an external signals file: 'external:' || <name column>. -#}
{% macro external_strategy(name_column) -%}
'external:' || {{ name_column }}
{%- endmacro %}
