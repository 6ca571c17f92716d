"""Per LLM model and ticker: does the model remember how past months went? (signal_stats.recall)"""


def model(dbt, session):
    dbt.config(materialized="table")
    from signal_stats.recall import RecallSettings, recall_table

    settings = RecallSettings.from_config(dbt.config.get("recall_settings"))
    answers = dbt.ref("llm_return_recall").df()
    months = dbt.ref("int_llm_recall_months").df()
    return recall_table(answers, months, settings)
