"""Stage 1: a market analysis per (model, ticker, decision date) from int_llm_context, by each Ollama model in var llm_models."""


def model(dbt, session):
    dbt.config(materialized="table")
    from llm_client.dbt_support import attach_dbt_logging, rows_of
    from llm_client.settings import LlmSettings
    from llm_client.stages import market_analysis

    attach_dbt_logging()
    settings = LlmSettings.from_config(dbt.config.get("llm_settings"))
    context = rows_of(dbt.ref("int_llm_context"))
    return market_analysis(context, settings)
