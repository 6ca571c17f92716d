{#-
  on-run-start hook: on the Spark target, say in the log what is not built there and why. Renders
  no SQL (an empty hook runs nothing).
-#}
{% macro spark_skipped_nodes() -%}
{%- if execute and target.type == 'spark' -%}
{{ log("Spark target: snapshot snap_signal_validation skipped (dbt-spark snapshots need Delta/Iceberg/Hudi; these tables are Parquet); LLM stages llm_* and mart_strategy_scorecard are read from the tables python -m spark_target.python_job wrote (dbt-spark runs Python models only on Databricks)", info=true) }}
{%- endif -%}
{%- endmacro %}
