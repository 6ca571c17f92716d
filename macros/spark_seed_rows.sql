{#-
  Seeds on Spark: dbt-spark 1.11's session connection pastes each value into the INSERT as
  '<value>' without escaping, so an apostrophe in a cell breaks the statement and an empty cell
  becomes the text 'None'. This override of its spark__load_csv_rows writes every value as a
  literal itself: empty cells as null, numbers and booleans bare, text quoted with \ and ' escaped
  (Spark's string literals take backslash escapes). Same rows, same column types as before.
-#}
{% macro spark__load_csv_rows(model, agate_table) %}
  {%- set column_override = model['config'].get('column_types', {}) -%}
  {%- set statements = [] -%}
  {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
    {%- set sql -%}
      insert into {{ this.render() }} values
      {% for row in chunk -%}
        ({%- for value in row -%}
          {%- set col_name = agate_table.column_names[loop.index0] -%}
          {%- set type = column_override.get(col_name, adapter.convert_type(agate_table, loop.index0)) -%}
          cast({{ spark_seed_literal(value) }} as {{ type }}){{ ", " if not loop.last }}
        {%- endfor -%}){{ "," if not loop.last }}
      {% endfor %}
    {%- endset -%}
    {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
    {%- do statements.append(sql) if loop.first -%}
  {%- endfor -%}
  {{ return(statements[0]) }}
{% endmacro %}

{% macro spark_seed_literal(value) -%}
  {%- if value is none -%}
    null
  {%- elif value is sameas true or value is sameas false -%}
    {{ value | string | lower }}
  {%- elif value is number -%}
    {{ value }}
  {%- else -%}
    {{ spark__sql_string_literal(value) }}
  {%- endif -%}
{%- endmacro %}
