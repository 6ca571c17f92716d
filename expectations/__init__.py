"""Great Expectations (GX Core 1.x) suites for the warehouse, one folder per layer.

Suites are GX's own ExpectationSuite JSON files under ``expectations/suites/<layer>/``; every
threshold in them is a ``{"$PARAMETER": "<dbt var>"}`` reference resolved from ``vars:`` in
dbt_project.yml at run time, so no number is kept twice. ``python -m expectations`` validates a
built DuckDB warehouse, prints a per-suite table, writes Data Docs and exits non-zero on failure.
"""
