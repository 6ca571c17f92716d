{#-
  The folder holding the warehouse and every file a build writes: $WAREHOUSE_DIR, default 'data'
  (relative paths are taken from the project folder, where dbt runs). The same rule as
  profiles.yml (which cannot call macros) and as warehouse_core.paths on the Python side;
  tests/core/test_build_files.py builds with a relative WAREHOUSE_DIR to prove they agree.
-#}
{% macro warehouse_dir() -%}
{{ return(env_var('WAREHOUSE_DIR', '') or 'data') }}
{%- endmacro %}
