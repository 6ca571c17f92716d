{#-
  Post-hook helper: create $WAREHOUSE_DIR/<subdir> if it is missing (DuckDB's COPY TO creates no
  parent folders for a single file). An empty, partitioned COPY creates the folder and writes no
  file; overwrite_or_ignore makes it a no-op when the folder exists. Spark's INSERT OVERWRITE
  DIRECTORY creates its folders, so there it is a statement that does nothing.
-#}
{% macro ensure_directory(subdir) -%}
{{ return(adapter.dispatch('ensure_directory')(subdir)) }}
{%- endmacro %}

{% macro default__ensure_directory(subdir) -%}
copy (select 1 as partition_key, 1 as payload where false)
    to {{ sql_string_literal(warehouse_dir() ~ '/' ~ subdir) }}
    (format parquet, partition_by (partition_key), overwrite_or_ignore true)
{%- endmacro %}

{% macro spark__ensure_directory(subdir) -%}
select 1 as folders_made_by_the_write
{%- endmacro %}
