{#-
  Monday-to-Friday day counter: consecutive weekdays get consecutive numbers, so
  business_day_number(b) - business_day_number(a) - 1 is the number of weekdays strictly between
  two weekdays a < b. 1970-01-05 is a Monday.
-#}
{% macro business_day_number(date_column) -%}
(5 * (datediff('day', date '1970-01-05', {{ date_column }}) // 7)
 + least(datediff('day', date '1970-01-05', {{ date_column }}) % 7, 5))
{%- endmacro %}
