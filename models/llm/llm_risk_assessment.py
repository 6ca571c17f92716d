"""Stage 3: a risk assessment per (model, decision date) over that model's signalled portfolio (position size capped by var)."""


def model(dbt, session):
    dbt.config(materialized="table")
    from llm_client.dbt_support import attach_dbt_logging, rows_of
    from llm_client.settings import LlmSettings
    from llm_client.stages import risk_assessment

    attach_dbt_logging()
    settings = LlmSettings.from_config(dbt.config.get("llm_settings"))
    context = rows_of(dbt.ref("int_llm_context"))
    signals = rows_of(dbt.ref("llm_signal_generation"))
    return risk_assessment(context, signals, settings)
