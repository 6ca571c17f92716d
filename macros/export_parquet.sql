{#-
  Post-hook: write the model's table to Parquet under $WAREHOUSE_DIR/<subdir>, replacing what an
  earlier build wrote there, so files and warehouse always hold the same rows.
  Usage: post_hook="{{ export_parquet('training/mart_dataset_splits', ['ticker', 'split']) }}"
-#}
{% macro export_parquet(subdir, partition_by=none) -%}
{%- set target_path = warehouse_dir() ~ '/' ~ subdir -%}
{%- if partition_by -%}
copy (select * from {{ this }}) to '{{ target_path }}'
    (format parquet, partition_by ({{ partition_by | join(', ') }}), overwrite true)
{%- else -%}
copy (select * from {{ this }}) to '{{ target_path }}.parquet' (format parquet)
{%- endif -%}
{%- endmacro %}
