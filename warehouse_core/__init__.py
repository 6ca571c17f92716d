"""Shared infrastructure of every CLI and of the dbt Python models, each idea written once.

* :mod:`warehouse_core.errors`: :class:`UserError`, the one error whose message a CLI shows as is;
* :mod:`warehouse_core.project`: the project folder and the ``vars:`` of dbt_project.yml (plus a
  ``--vars`` override parsed the way dbt parses it);
* :mod:`warehouse_core.paths`: ``$WAREHOUSE_DIR`` and the files in it (warehouse, LLM cache);
* :mod:`warehouse_core.warehouse`: opening the DuckDB warehouse (read-write or read-only) and writing to
  it in one transaction, every DuckDB error said in one line;
* :mod:`warehouse_core.children`: child processes (``dbt build``, the embedded server) that die with us;
* :mod:`warehouse_core.ollama_host`: which Ollama server a host setting means.
"""

from warehouse_core.errors import UserError

__all__ = ["UserError"]
