"""The main job in one command: ingest -> (embedded) Ollama -> dbt build -> report."""
