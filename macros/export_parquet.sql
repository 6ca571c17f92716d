{#-
  Write a relation (default: the model's own table, in a post-hook) to Parquet under
  $WAREHOUSE_DIR/<subdir>, replacing what an earlier build wrote there, so files and warehouse
  always hold the same rows.
  Usage: post_hook="{{ export_parquet('training/mart_dataset_splits', ['ticker', 'split']) }}"
  (export_marts calls it with relation= for every mart at the end of a run.)
  On Spark the copy goes to <storage root>/<subdir>/ (spark_storage_root(), default
  $WAREHOUSE_DIR/spark), a folder of Parquet part files written by Spark itself (INSERT OVERWRITE
  DIRECTORY, not partitioned; the Spark tables themselves are Parquet too), so a Spark build beside
  a DuckDB build never overwrites DuckDB's files, and on a cluster the executors write it.
-#}
{% macro export_parquet(subdir, partition_by=none, relation=none) -%}
{{ return(adapter.dispatch('export_parquet')(subdir, partition_by, relation)) }}
{%- endmacro %}

{% macro default__export_parquet(subdir, partition_by, relation) -%}
{%- set source_relation = relation or this -%}
{%- set target_path = warehouse_dir() ~ '/' ~ subdir -%}
{%- if partition_by -%}
copy (select * from {{ source_relation }}) to {{ sql_string_literal(target_path) }}
    (format parquet, partition_by ({{ partition_by | join(', ') }}), overwrite true)
{%- else -%}
copy (select * from {{ source_relation }}) to {{ sql_string_literal(target_path ~ '.parquet') }} (format parquet)
{%- endif -%}
{%- endmacro %}

{% macro spark__export_parquet(subdir, partition_by, relation) -%}
insert overwrite directory {{ sql_string_literal(spark_storage_root() ~ '/' ~ subdir) }} using parquet
select * from {{ relation or this }}
{%- endmacro %}
