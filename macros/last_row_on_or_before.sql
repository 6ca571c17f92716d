{#-
  Join clause: each left row gets the right row of the same key with the latest time on or before
  the left row's time (none: nulls). DuckDB's ASOF LEFT JOIN does it in one merge; Spark has no
  ASOF join, so each right row is given the next row's time and the left time must fall in between.
  Usage: from signals {{ last_row_on_or_before_join('signals', 'trading_days', 'ticker', 'signal_date', 'date') }}
-#}
{% macro last_row_on_or_before_join(left_alias, right_relation, key, left_time, right_time) -%}
{{ return(adapter.dispatch('last_row_on_or_before_join')(left_alias, right_relation, key, left_time, right_time)) }}
{%- endmacro %}

{% macro default__last_row_on_or_before_join(left_alias, right_relation, key, left_time, right_time) -%}
asof left join {{ right_relation }}
    on {{ left_alias }}.{{ key }} = {{ right_relation }}.{{ key }}
   and {{ left_alias }}.{{ left_time }} >= {{ right_relation }}.{{ right_time }}
{%- endmacro %}

{% macro spark__last_row_on_or_before_join(left_alias, right_relation, key, left_time, right_time) -%}
left join (
    select *, lead({{ right_time }}) over (partition by {{ key }} order by {{ right_time }}) as next_row_time
    from {{ right_relation }}
) as {{ right_relation }}
    on {{ left_alias }}.{{ key }} = {{ right_relation }}.{{ key }}
   and {{ left_alias }}.{{ left_time }} >= {{ right_relation }}.{{ right_time }}
   and ({{ left_alias }}.{{ left_time }} < {{ right_relation }}.next_row_time or {{ right_relation }}.next_row_time is null)
{%- endmacro %}
