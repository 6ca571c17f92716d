"""``python -m report``: the backtest and signal-tracking report, read only from the marts.

Text (the seed's "SUMMARY BY TICKER" and tracking tables), JSON, or a self-contained HTML file
with equity, drawdown and signal charts. Opens $WAREHOUSE_DIR/warehouse.duckdb read-only.
"""
