{#-
  The backtest's constants, each written once. They render as SQL literals, so a model reads
  `{{ cost_rate() }}` where it means "transaction cost per unit of position change".
-#}

{#- Cost per unit of |change of position| (or of portfolio weight): transaction_cost_bps / 10 000. -#}
{% macro cost_rate() -%}
cast({{ var('transaction_cost_bps') / 10000.0 }} as double)
{%- endmacro %}

{#- What cash earns per trading day, and the hurdle of Sharpe / Sortino / CAPM: risk_free_rate / trading_days_per_year. -#}
{% macro daily_risk_free_rate() -%}
cast({{ var('risk_free_rate') / var('trading_days_per_year') }} as double)
{%- endmacro %}

{#- The ticker label of a strategy's portfolio rows in fct_backtest_daily and mart_backtest_summary. -#}
{% macro portfolio_ticker() -%}
'PORTFOLIO'
{%- endmacro %}

{#- The strategy name of an LLM model's signals, whose portfolio the risk stage sizes: 'llm:<model>'.
    With blind_mode (a boolean column of the LLM stage tables): 'llm:<model>:blind' for the blind
    twin's rows (asked with nothing that identifies the asset or the period), 'llm:<model>' else. -#}
{% macro llm_strategy(model, blind_mode=none) -%}
'llm:' || {{ model }}
{%- if blind_mode is not none %} || case when {{ blind_mode }} then ':blind' else '' end{% endif %}
{%- endmacro %}

{#- The same signals with a portfolio that ignores the risk stage: 'llm:<model>:no_risk'. -#}
{% macro llm_unsized_strategy(model) -%}
'llm:' || {{ model }} || ':no_risk'
{%- endmacro %}
