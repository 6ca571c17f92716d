{#-
  On Spark: the storage root of the running session, `spark.signal_warehouse.storage_root` (set by
  the `spark` output of profiles.yml from $SPARK_STORAGE_ROOT, default $WAREHOUSE_DIR/spark), as a
  Spark variable reference that Spark itself substitutes when it runs the statement
  (spark.sql.variable.substitute, on by default). So profiles.yml stays the one place the rule is
  written, and a hook rendered at parse time still writes where the running session says.
  Exports go under it (export_parquet); Spark's tables live in <root>/warehouse.
-#}
{% macro spark_storage_root() -%}
{{ return('${spark.signal_warehouse.storage_root}') }}
{%- endmacro %}
