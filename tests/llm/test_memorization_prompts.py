"""The blind twin's prompts and the twins through the stage code (fast: fake Ollama clients, no dbt).

A blind prompt must not identify the asset or the period: no ticker, no company name, no year, no
ISO date, no price level as traded. The hand-made context row below carries tell-tale values (a
famous ticker, a date, closes near $667) that a leak would show; the same check runs on every blind
prompt of a real build in test_memorization_build.py.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from test_llm_client import CONTEXT, GOOD_ANALYSIS, FakeClient, chat_reply, settings

from llm_client.prompts import (
    BLIND_BASE,
    analysis_messages,
    price_scale,
    prompt_hash,
    recall_messages,
    risk_messages,
    signal_messages,
)
from llm_client.stages import market_analysis, return_recall, risk_assessment, signal_generation

TELL_TALE: dict[str, Any] = {
    "ticker": "AAPL",
    "decision_date": date(2012, 9, 19),
    "asset_label": "ASSET_1",
    "decision_day": 118,
    "close": 702.1,
    "recent_closes": [667.1, 682.98, 691.28, 699.78, 702.1],
    "return_1d": 0.0033,
    "return_5d": 0.052,
    "return_20d": 0.061,
    "return_60d": 0.178,
    "volatility_annualized": 0.221,
    "sma_short": 671.35,
    "sma_medium": 628.04,
    "sma_long": 593.31,
    "rsi": 77.0,
    "drawdown": 0.0,
    "range_high": 702.33,
    "range_low": 615.43,
}
RAW_LEVELS = ("close", "sma_short", "sma_medium", "sma_long", "range_high", "range_low")
NAMES = ("Apple", "Microsoft", "International Business Machines", "Google", "Alphabet")
YEAR = re.compile(r"(?<!\d)(19|20)\d\d(?!\d)")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
NUMBER = re.compile(r"\d+(?:\.\d+)?")


def leaks(text: str, tickers: set[str], raw_levels: set[str]) -> list[str]:
    """Everything in a prompt's text that identifies the asset or the period (empty: nothing)."""
    found = [t for t in tickers if re.search(rf"(?<![A-Za-z]){re.escape(t)}(?![A-Za-z])", text)]
    found += [name for name in NAMES if name.lower() in text.lower()]
    found += [m.group() for m in YEAR.finditer(text)] + ISO_DATE.findall(text)
    found += [number for number in NUMBER.findall(text) if number in raw_levels]
    return found


def shown_levels(context: dict[str, Any], *more: float) -> set[str]:
    """Every price level of the row as a named prompt would show it (2 decimals), and to 1 decimal."""
    values = [*(context[name] for name in RAW_LEVELS), *context["recent_closes"], *more]
    return {f"{float(v):.2f}" for v in values} | {f"{float(v):.1f}" for v in values}


def blind_texts(context: dict[str, Any]) -> list[str]:
    analysis = {**GOOD_ANALYSIS, "support": 690.5, "resistance": 710.25}
    return [
        message["content"]
        for messages in (
            analysis_messages(context, True),
            signal_messages(context, analysis, True),
            risk_messages([(context, {"action": "BUY", "confidence": 0.6})], True, 0.25),
        )
        for message in messages
    ]


def test_blind_prompts_of_a_tell_tale_row_leak_nothing() -> None:
    raw = shown_levels(TELL_TALE, 690.5, 710.25)
    for text in blind_texts(TELL_TALE):
        assert leaks(text, {"AAPL"}, raw) == [], text
    named = " ".join(message["content"] for message in analysis_messages(TELL_TALE, False))
    assert {"AAPL", "2012", "2012-09-19", "702.10", "667.10"} <= set(leaks(named, {"AAPL"}, raw)), (
        "the detector must see what a named prompt shows"
    )


def test_blind_prompts_rebase_every_level_to_100_at_the_first_close_shown() -> None:
    blind = analysis_messages(TELL_TALE, True)[1]["content"]
    assert "Closes, oldest first: 100.00 102.38 103.62 104.90 105.25." in blind
    scale = BLIND_BASE / 667.1
    assert price_scale(TELL_TALE, True) == pytest.approx(scale) and price_scale(TELL_TALE, False) == 1.0
    for name in ("sma_short", "sma_medium", "sma_long", "range_low", "range_high"):
        assert f"{TELL_TALE[name] * scale:.2f}" in blind, name
    assert "ASSET_1, close of day 118." in blind
    # scale-free facts are the named prompt's, word for word
    named = analysis_messages(TELL_TALE, False)[1]["content"]
    for fact in ("Returns 1d +0.3%, 5d +5.2%, 20d +6.1%, 60d +17.8%.", "Volatility 22.1%/yr, RSI 77, drawdown +0.0%."):
        assert fact in named and fact in blind
    no_closes = analysis_messages({**TELL_TALE, "recent_closes": None}, True)[1]["content"]
    assert "support (below 100.00)" in no_closes, "without closes the decision close is the base"


def test_named_prompts_are_unchanged_so_cached_answers_stay_valid() -> None:
    """Hashes of the named prompts before the blind twin existed: a change here re-asks every cached answer."""
    assert prompt_hash(analysis_messages(CONTEXT, False)) == (
        "1f52573d4b923c66b7d2ff00329ab77babcc79f8183914ef09f4701e9a4e0843"
    )
    assert prompt_hash(signal_messages(CONTEXT, GOOD_ANALYSIS, False)) == (
        "64af2e55f4cc100e6b75e5dea11a561d55444e273fb8c6bf944629b971f052e1"
    )
    assert prompt_hash(risk_messages([(CONTEXT, {"action": "BUY", "confidence": 0.6})], False, 0.25)) == (
        "a41881fcef8a137febea263f74155f92bd7f66e1d8d5e47c530e00ee3d729f67"
    )


class BoundedFake(FakeClient):
    """Answers every stage validly, inside whatever bounds the request's schema sets (the shown close)."""

    def chat(self, **kwargs: Any) -> Any:
        self.requests.append(kwargs)
        properties = kwargs["format"]["properties"]
        if "support" in properties:
            close = properties["support"]["exclusiveMaximum"]
            answer = {**GOOD_ANALYSIS, "support": round(close * 0.9, 2), "resistance": round(close * 1.1, 2)}
        elif "action" in properties:
            answer = {"action": "BUY", "confidence": 0.6, "horizon": "1m", "rationale": "trend"}
        elif "total_return_percent" in properties:
            answer = {"total_return_percent": 3}
        else:
            answer = {"risk_score": 0.2, "volatility_regime": "normal", "max_position_size": 0.2, "concerns": []}
        return chat_reply(json.dumps(answer))


def test_the_memorisation_check_asks_each_stage_as_both_twins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = BoundedFake([])
    monkeypatch.setattr("llm_client.routing.make_client", lambda host, timeout: fake)
    chosen = settings(
        tmp_path,
        memorization_check=True,
        use_cache=False,
        timeouts={"analysis": 5, "signal": 5, "risk": 5, "recall": 5},
        num_predict={"analysis": 64, "signal": 64, "risk": 64, "recall": 16},
    )
    context = [TELL_TALE, {**CONTEXT, "ticker": "MSFT", "asset_label": "ASSET_2", "decision_date": date(2012, 9, 19)}]
    analyses = market_analysis(context, chosen)
    assert list(analyses["blind_mode"]) == [False, False, True, True]
    blind = analyses[analyses["blind_mode"] & analyses["ticker"].eq("AAPL")].iloc[0]
    named = analyses[~analyses["blind_mode"] & analyses["ticker"].eq("AAPL")].iloc[0]
    # the blind twin answered on the rebased scale; its levels are stored on the traded scale
    assert fake.requests[2]["format"]["properties"]["support"]["exclusiveMaximum"] == pytest.approx(
        702.1 * BLIND_BASE / 667.1
    )
    assert blind["support"] == pytest.approx(named["support"], rel=1e-3)
    assert blind["support"] < 702.1 < blind["resistance"]
    for row in analyses.itertuples():
        assert hashlib.sha256(row.prompt_messages.encode()).hexdigest() == row.prompt_hash
        assert ("AAPL" in row.prompt_messages or "MSFT" in row.prompt_messages) != row.blind_mode

    signals = signal_generation(context, analyses.to_dict("records"), chosen)
    assert list(signals["blind_mode"]) == [False, False, True, True] and (signals["status"] == "ok").all()
    blind_signal_prompt = fake.requests[6]["messages"][1]["content"]
    shown_support = blind["support"] * BLIND_BASE / 667.1
    assert f"support {shown_support:.2f}" in blind_signal_prompt, "the blind twin gets its own analysis, rebased"
    assert leaks(blind_signal_prompt, {"AAPL", "MSFT"}, shown_levels(TELL_TALE)) == []

    risk = risk_assessment(context, signals.to_dict("records"), chosen)
    assert list(risk["blind_mode"]) == [False, True] and list(risk["signals_used"]) == [2, 2]
    assert "ASSET_1: BUY" in fake.requests[-1]["messages"][1]["content"]

    recall = return_recall([{"ticker": "AAPL", "month": date(2012, 9, 1)}], risk.to_dict("records"), chosen)
    assert list(recall["recalled_return"]) == [0.03] and not recall["blind_mode"].any()


def test_without_the_check_nothing_changes_and_the_recall_probe_asks_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = BoundedFake([])
    monkeypatch.setattr("llm_client.routing.make_client", lambda host, timeout: fake)
    named_only = settings(tmp_path, use_cache=False)
    assert named_only.blind_modes() == [False]
    assert not market_analysis([TELL_TALE], named_only)["blind_mode"].any()
    asked = len(fake.requests)
    recall = return_recall([{"ticker": "AAPL", "month": date(2012, 9, 1)}], [], named_only)
    assert recall.empty and len(fake.requests) == asked
    assert list(recall.columns[:3]) == ["ticker", "month", "recalled_return"] and "prompt_messages" in recall.columns
    blind_only = settings(tmp_path, blind=True, use_cache=False)
    assert blind_only.blind_modes() == [True]
    assert market_analysis([TELL_TALE], blind_only)["blind_mode"].all()


def test_the_two_twin_switches_together_are_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"llm_blind .* and llm_memorization_check .* are both true") as error:
        settings(tmp_path, blind=True, memorization_check=True)
    assert "set llm_blind false" in str(error.value)


def test_the_recall_question_names_the_ticker_and_month_and_nothing_else() -> None:
    system, user = recall_messages("MSFT", date(2012, 9, 1))
    assert user["content"].startswith("MSFT, September 2012: what was the stock's total return")
    assert not re.search(r"\d+\.\d", user["content"]), "no market data in the question"
    assert "historian" in system["content"]


def test_pipeline_memorization_check_sets_the_var_and_refuses_llm_blind(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline import cli as pipeline_cli

    args = pipeline_cli.parse_args(pipeline_cli.build_parser(), ["--memorization-check"])
    assert pipeline_cli.dbt_vars(args) == {"llm_memorization_check": True}
    assert pipeline_cli.dbt_vars(pipeline_cli.parse_args(pipeline_cli.build_parser(), [])) == {}
    defaults = pipeline_cli.project_vars()
    monkeypatch.setattr(pipeline_cli, "project_vars", lambda: {**defaults, "llm_blind": True})
    with pytest.raises(SystemExit) as stopped:
        pipeline_cli.main(["--memorization-check"])
    assert stopped.value.code == 2
    assert (
        capsys.readouterr()
        .err.strip()
        .splitlines()[-1]
        .endswith("var llm_blind (the blind twin only) is true: set it false")
    )
