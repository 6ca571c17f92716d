{#- Fails with one row per duplicated key (dbt-utils cannot be installed here, so we keep our own). -#}
{% test unique_combination_of_columns(model, combination) %}
select {{ combination | join(', ') }}, count(*) as duplicate_rows
from {{ model }}
group by {{ combination | join(', ') }}
having count(*) > 1
{% endtest %}
