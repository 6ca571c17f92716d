{#- SQL list literal of the tickers the run is about: var('tickers') plus the benchmark (or without
    it: include_benchmark=false). Each symbol is checked against the same rule as the ingest CLI
    before it reaches SQL. -#}
{% macro tickers_in_scope(include_benchmark=true) -%}
{%- set tickers = var('tickers') + ([var('benchmark_ticker')] if include_benchmark else []) -%}
{%- for t in tickers -%}
  {%- if not modules.re.match('^[A-Z0-9.\-^]{1,15}$', t) -%}
    {{ exceptions.raise_compiler_error("invalid ticker " ~ t ~ " in vars: use upper-case letters, digits, '.', '-' or '^' (at most 15 characters)") }}
  {%- endif -%}
{%- endfor -%}
({% for t in tickers %}'{{ t }}'{{ ', ' if not loop.last }}{% endfor %})
{%- endmacro %}
