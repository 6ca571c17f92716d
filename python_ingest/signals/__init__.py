"""Load a signals file made elsewhere into the warehouse as strategy ``external:<name>``.

``python -m python_ingest.signals --file PATH --name NAME`` reads a CSV or JSON file of
(ticker, date, action, confidence[, model, rationale]) rows as a stream (:mod:`.reader`, JSON through
:mod:`.json_stream`), refuses the whole file if any row is bad (:mod:`.checks`) while keeping the good
ones column by column (:mod:`.rows`), replaces the signals of that name in one transaction and
logs the load (:mod:`.store`), then warns about tickers the build cannot backtest
(:mod:`.coverage`). dbt takes them from raw.signals through stg_external_signals and
int_signals_external into int_signals, where the backtest and tracking judge them like any other
strategy.
"""
