"""Load daily prices into the DuckDB warehouse (raw.prices, raw.ingest_runs).

Sources: ``sample`` (public-domain prices shipped in PyPI packages, no network),
``yahoo`` (yfinance) and ``csv`` (a user's own CSV/Parquet files). Several sources
given in order are a per-ticker fallback.
"""
