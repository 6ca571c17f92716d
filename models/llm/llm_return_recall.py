"""The recall probe: each Ollama model in var llm_models asked, with no market data, for a ticker's total return over each past calendar month of the decision window (memorisation check only)."""


def model(dbt, session):
    dbt.config(materialized="table")
    from llm_client.dbt_support import attach_dbt_logging, rows_of
    from llm_client.settings import LlmSettings
    from llm_client.stages import return_recall

    attach_dbt_logging()
    settings = LlmSettings.from_config(dbt.config.get("llm_settings"))
    months = rows_of(dbt.ref("int_llm_recall_months").project("ticker, month"))  # never the actual return
    # After the risk stage: one LLM model at a time uses the server and the cache file, and a model
    # the stages already reported unavailable is said so at info level here.
    risk = rows_of(dbt.ref("llm_risk_assessment"))
    return return_recall(months, risk, settings)
