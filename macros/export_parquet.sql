{#-
  Write a relation (default: the model's own table, in a post-hook) to Parquet under
  $WAREHOUSE_DIR/<subdir>, replacing what an earlier build wrote there, so files and warehouse
  always hold the same rows.
  Usage: post_hook="{{ export_parquet('training/mart_dataset_splits', ['ticker', 'split']) }}"
  (export_marts calls it with relation= for every mart at the end of a run.)
-#}
{% macro export_parquet(subdir, partition_by=none, relation=none) -%}
{%- set source_relation = relation or this -%}
{%- set target_path = warehouse_dir() ~ '/' ~ subdir -%}
{%- if partition_by -%}
copy (select * from {{ source_relation }}) to '{{ target_path }}'
    (format parquet, partition_by ({{ partition_by | join(', ') }}), overwrite true)
{%- else -%}
copy (select * from {{ source_relation }}) to '{{ target_path }}.parquet' (format parquet)
{%- endif -%}
{%- endmacro %}
