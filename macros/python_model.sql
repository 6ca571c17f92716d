{#-
  The relation of a table dbt builds with a Python model on DuckDB (the LLM stages llm_*, and
  mart_strategy_scorecard): ref() on DuckDB; on Spark, where dbt-spark runs Python models only on
  Databricks, the table python -m spark_target.python_job wrote from the same Python code, declared
  as the source spark_python_job. Same table name and columns on both engines.
-#}
{% macro python_model(name) -%}
{%- if target.type == 'spark' -%}
{{ return(source('spark_python_job', name)) }}
{%- else -%}
{{ return(ref(name)) }}
{%- endif -%}
{%- endmacro %}
