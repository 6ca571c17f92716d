{#-
  Products of factors, which DuckDB has as the aggregate product() and Spark does not.
  product_of(x): the aggregate. Spark multiplies the collected factors one by one (exact as DuckDB).
  running_product(x, over): the window form, `over` being the window's text in parentheses.
  Spark computes exp(sum(ln x)) (one pass; relative error ~1e-14 over thousands of factors), so the
  factors must not be negative: a negative one stops the query with an error instead of a wrong
  number; a zero factor gives 0, as a product does. Every caller multiplies growth factors (1 +
  return, floored at 0).
-#}
{% macro product_of(factor) -%}
{{ return(adapter.dispatch('product_of')(factor)) }}
{%- endmacro %}

{% macro default__product_of(factor) -%}
product({{ factor }})
{%- endmacro %}

{% macro spark__product_of(factor) -%}
aggregate(collect_list(cast({{ factor }} as double)), cast(1 as double), (acc, f) -> acc * f)
{%- endmacro %}

{% macro running_product(factor, over) -%}
{{ return(adapter.dispatch('running_product')(factor, over)) }}
{%- endmacro %}

{% macro default__running_product(factor, over) -%}
product({{ factor }}) over {{ over }}
{%- endmacro %}

{% macro spark__running_product(factor, over) -%}
case
    when min({{ factor }}) over {{ over }} < 0 then raise_error('running_product: a negative factor')
    when min({{ factor }}) over {{ over }} = 0 then cast(0 as double)
    else exp(sum(ln({{ factor }})) over {{ over }})
end
{%- endmacro %}
