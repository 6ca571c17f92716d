{#-
  A SQL string literal holding `value` exactly: every path and setting reaches SQL through it, so an
  apostrophe in WAREHOUSE_DIR (/tmp/o'brien) or in a var is data, never code. DuckDB doubles the quote;
  Spark reads backslash escapes (and would join 'a''b' into 'ab').
-#}
{% macro sql_string_literal(value) -%}
{{ return(adapter.dispatch('sql_string_literal')(value)) }}
{%- endmacro %}

{% macro default__sql_string_literal(value) -%}
'{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{% macro spark__sql_string_literal(value) -%}
'{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}
