{#-
  Monday-to-Friday day counter: consecutive weekdays get consecutive numbers, so
  business_day_number(b) - business_day_number(a) - 1 is the number of weekdays strictly between
  two weekdays a < b. 1970-01-05 is a Monday. Portable: floor of a true division (DuckDB's `//`
  does not exist on Spark).
-#}
{% macro business_day_number(date_column) -%}
(5 * cast(floor({{ days_between("date '1970-01-05'", date_column) }} / 7) as bigint)
 + least({{ days_between("date '1970-01-05'", date_column) }} % 7, 5))
{%- endmacro %}
