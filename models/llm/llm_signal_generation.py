"""Stage 2: an advisory BUY/SELL/HOLD signal per (model, ticker, decision date), given the same model's stage-1 analysis."""


def model(dbt, session):
    dbt.config(materialized="table")
    from llm_client.dbt_support import attach_dbt_logging, rows_of
    from llm_client.settings import LlmSettings
    from llm_client.stages import signal_generation

    attach_dbt_logging()
    settings = LlmSettings.from_config(dbt.config.get("llm_settings"))
    context = rows_of(dbt.ref("int_llm_context"))
    analyses = rows_of(dbt.ref("llm_market_analysis"))
    return signal_generation(context, analyses, settings)
