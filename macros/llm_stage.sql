{#-
  The relation of an LLM stage table (llm_market_analysis, llm_signal_generation,
  llm_risk_assessment): the dbt Python model on DuckDB; on Spark, where dbt-spark runs Python models
  only on Databricks, the table the Python job (python -m spark_target.python_job) wrote, declared as
  the source spark_python_job. Same table name and columns on both.
-#}
{% macro llm_stage(name) -%}
{%- if target.type == 'spark' -%}
{{ return(source('spark_python_job', name)) }}
{%- else -%}
{{ return(ref(name)) }}
{%- endif -%}
{%- endmacro %}
