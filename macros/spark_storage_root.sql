{#-
  On Spark: the storage root of the running session, `spark.signal_warehouse.storage_root` (set by
  the `spark` output of profiles.yml from $SPARK_STORAGE_ROOT, default $WAREHOUSE_DIR/spark; sent by
  the `spark_thrift` output as a session setting), asked of the session when the statement runs. So
  profiles.yml stays the one place the rule is written, and the value reaches SQL through
  sql_string_literal (a Spark variable `${...}` would be pasted into the statement as raw text, and
  an apostrophe in the path would end the literal). Exports go under it (export_parquet); Spark's
  tables live in <root>/warehouse. So a hook that uses it must be a string, rendered when it runs
  (post_hook="{{ export_parquet(...) }}"): a hook written as a call is rendered while dbt parses,
  when no query runs; it then gets the Spark variable `${spark.signal_warehouse.storage_root}`,
  which Spark fills in as it runs the statement (right, unless the root holds an apostrophe).
-#}
{% macro spark_storage_root() -%}
{%- if not execute -%}
{{ return('${spark.signal_warehouse.storage_root}') }}
{%- endif -%}
{%- set root = run_query('set spark.signal_warehouse.storage_root').rows[0][1] -%}
{%- if root in ('', '<undefined>') -%}
{{ exceptions.raise_compiler_error("the Spark session has no spark.signal_warehouse.storage_root: run dbt with this project's profiles.yml (outputs spark or spark_thrift)") }}
{%- endif -%}
{{ return(root) }}
{%- endmacro %}
