"""Statistics of the strategy scorecard, one module per idea, pure functions over numpy / pandas.

* :mod:`signal_stats.settings`: the scorecard's thresholds and switches (dbt vars), validated;
* :mod:`signal_stats.random_timing`: the random-timing tests of signals and portfolios (the verdict's null);
* :mod:`signal_stats.family`: family-wise adjustment (Romano-Wolf stepdown) and the minimum detectable effect;
* :mod:`signal_stats.timing_tests`: both tests for every strategy of the warehouse's frames, on the same draws;
* :mod:`signal_stats.hit_rate`: exact one-sided binomial tests of a hit rate (descriptive);
* :mod:`signal_stats.sharpe`: per-day Sharpe ratio, probabilistic and deflated Sharpe ratios;
* :mod:`signal_stats.bootstrap`: a stationary-bootstrap interval for the alpha over buy-and-hold;
* :mod:`signal_stats.spa`: Hansen's Superior Predictive Ability test, per strategy and family-wise (descriptive);
* :mod:`signal_stats.verdict`: edge / no_edge / insufficient_data, with the reason;
* :mod:`signal_stats.scorecard`: one row per strategy from the warehouse's inputs.

Nothing here knows about dbt or DuckDB: the dbt Python model ``mart_strategy_scorecard`` hands in
pandas frames, and any other engine (e.g. a Spark job) can do the same.
"""
