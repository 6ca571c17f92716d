{#-
  on-run-end hook: write every mart of this project (models/marts; never an installed package's
  models, e.g. dbt-project-evaluator's) this invocation built to $WAREHOUSE_DIR/marts/<model>.parquet,
  once, after all models and tests ran. A mart whose model failed or whose data tests failed is
  not exported, so a BI tool reading the files keeps the last good copy (a warning names it).
  Each file is written to a temporary file and renamed over the old one by DuckDB, so a reader
  never sees half a file.
-#}
{% macro export_marts(results) %}
    {%- if execute -%}
        {%- set failed_tests_on = [] -%}
        {%- for result in results
            if result.node.resource_type == 'test' and result.status in ('fail', 'error')
            and result.node.attached_node -%}
            {%- do failed_tests_on.append(result.node.attached_node) -%}
        {%- endfor -%}
        {%- set marts = [] -%}
        {%- for result in results if result.node.resource_type == 'model' and result.node.package_name == project_name and result.node.fqn[1] == 'marts' -%}
            {%- if result.status == 'success' and result.node.unique_id not in failed_tests_on -%}
                {%- do marts.append(result.node) -%}
            {%- else -%}
                {{ log("warning: " ~ result.node.name ~ " not exported to Parquet (model " ~ result.status ~ " or a data test failed); the previous file stays", info=true) }}
            {%- endif -%}
        {%- endfor -%}
        {%- if marts -%}
            {%- set started = modules.datetime.datetime.now() -%}
            {%- do run_query(ensure_directory('marts')) -%}
            {%- for node in marts -%}
                {%- set relation = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) -%}
                {%- do run_query(export_parquet('marts/' ~ node.alias, relation=relation)) -%}
            {%- endfor -%}
            {%- set seconds = (modules.datetime.datetime.now() - started).total_seconds() -%}
            {{ log("Parquet export: " ~ marts | length ~ " marts to the marts/ folder in " ~ "%.2f" | format(seconds) ~ " s", info=true) }}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}
