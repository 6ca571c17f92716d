"""What the numbers say, in sentences: the headline, each strategy's facts, the failing validation flags.

The text, JSON and HTML reports all take their sentences from here, so they say the same thing.
"""

from __future__ import annotations

from report.data import PORTFOLIO, BuildSettings, Report, ScorecardRow, SignalMix, TickerSummary
from report.wording import pct
from warehouse_core.strategy_names import blind_twin_of, states_confidence

# A strategy whose most frequent action is at least this share of its signals "said X to k of n":
# wording only (no verdict depends on it)
ONE_SIDED_SHARE = 0.9


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:g}"


def failing_flags(row: TickerSummary, settings: BuildSettings) -> list[str]:
    """The validation flags of a mart_backtest_summary row that failed, each as the rule it broke
    (with the var's value when the report knows it), in the mart's column order."""
    s = settings
    rules = [
        (
            row.passes_min_return,
            f"annual return not above {pct(s.min_annual_return, 0)}"
            if s.min_annual_return is not None
            else "annual return not above var min_annual_return",
        ),
        (row.beats_buy_hold, "does not beat buy-and-hold"),
        (
            row.passes_min_days,
            f"fewer than {s.min_trading_days} trading days"
            if s.min_trading_days is not None
            else "fewer trading days than var min_trading_days",
        ),
        (
            row.passes_sharpe,
            f"Sharpe not above {s.min_sharpe_ratio:g}"
            if s.min_sharpe_ratio is not None
            else "Sharpe not above var min_sharpe_ratio",
        ),
        (
            row.passes_capital,
            f"capital below {_number(s.min_capital)}" if s.min_capital is not None else "capital below var min_capital",
        ),
    ]
    return [rule for passed, rule in rules if not passed]


def validity_phrase(row: TickerSummary, settings: BuildSettings) -> str:
    """'valid', or 'not valid: <each failing flag>'."""
    failed = failing_flags(row, settings)
    if row.is_valid or not failed:
        return "valid" if row.is_valid else "not valid"
    return "not valid: " + ", ".join(failed)


def _mix_total(report: Report, strategy: str) -> SignalMix | None:
    """The strategy's signals over every ticker, or None when it has none."""
    rows = [m for m in report.signal_mix if m.strategy == strategy]
    if not rows:
        return None
    signals = sum(m.signals for m in rows)
    confidence = [m.mean_confidence * m.signals for m in rows if m.mean_confidence is not None]
    return SignalMix(
        strategy=strategy,
        ticker="*",
        signals=signals,
        buy=sum(m.buy for m in rows),
        sell=sum(m.sell for m in rows),
        hold=sum(m.hold for m in rows),
        mean_confidence=sum(confidence) / signals if confidence and signals else None,
        below_threshold=sum(m.below_threshold for m in rows),
        acted=sum(m.acted for m in rows),
    )


def _actions(mix: SignalMix) -> list[tuple[str, int]]:
    """(action, count) for the actions said at least once, most frequent first."""
    counts = [("BUY", mix.buy), ("SELL", mix.sell), ("HOLD", mix.hold)]
    return sorted(((a, n) for a, n in counts if n), key=lambda item: -item[1])


def action_mix_sentence(mix: SignalMix) -> str:
    """'Said BUY to all 48 signals (mean confidence 0.23).' or 'BUY 128, SELL 126 of 254 signals (...).'"""
    actions = _actions(mix)
    confidence = f" (mean confidence {mix.mean_confidence:.2f})" if mix.mean_confidence is not None else ""
    if len(actions) == 1:
        action, count = actions[0]
        return f"Said {action} to {'all ' if count > 1 else ''}{count} signal{'s' if count > 1 else ''}{confidence}."
    return f"{', '.join(f'{a} {n}' for a, n in actions)} of {mix.signals} signals{confidence}."


def acted_sentence(mix: SignalMix, threshold: float | None) -> str:
    """How many signals the backtest could act on, and why the others were not."""
    held = mix.signals - mix.below_threshold - mix.acted
    why = []
    if mix.below_threshold:
        why.append(f"{mix.below_threshold} below the confidence threshold {threshold:g} (ignored)")
    if held:
        why.append(f"{held} HOLD (keep the position)")
    if not why:
        return f"The backtest acted on all {mix.signals}."
    return f"The backtest acted on {mix.acted} of {mix.signals}: {'; '.join(why)}."


def _portfolio(report: Report, strategy: str) -> TickerSummary | None:
    return next((r for r in report.summary if r.strategy == strategy and r.ticker == PORTFOLIO), None)


def _never_traded(report: Report, strategy: str) -> list[str]:
    """One sentence per ticker the strategy never traded, saying why when its signals tell."""
    mixes = {m.ticker: m for m in report.signal_mix if m.strategy == strategy}
    threshold = report.settings.confidence_threshold
    sentences = []
    for row in report.summary:
        if row.strategy != strategy or row.ticker == PORTFOLIO or row.trades:
            continue
        mix = mixes.get(row.ticker)
        if mix is None:
            why = "no signal for it"
        elif mix.acted == 0 and mix.below_threshold == mix.signals and threshold is not None:
            why = f"all {mix.signals} of its signals were below the confidence threshold {threshold:g}"
        elif mix.acted == 0:
            why = f"none of its {mix.signals} signals was a BUY or SELL the backtest could act on"
        else:
            why = f"its {mix.acted} signal(s) acted on never opened a position"
        sentences.append(f"{row.ticker} never traded ({why}): its row is cash against buy-and-hold.")
    return sentences


def strategy_facts(report: Report, strategy: str) -> list[str]:
    """Plain-language facts that explain a strategy's numbers, one sentence each: what it said, what
    the backtest could act on, the trades, the tickers it never traded, and why its portfolio is
    (not) valid."""
    facts = []
    mix = _mix_total(report, strategy)
    if mix is None:
        facts.append("No signal of it in mart_signal_tracking.")
    else:
        facts += [action_mix_sentence(mix), acted_sentence(mix, report.settings.confidence_threshold)]
    portfolio = _portfolio(report, strategy)
    if portfolio is not None:
        facts.append(
            f"Its portfolio opened {portfolio.trades} position{'s' if portfolio.trades != 1 else ''} "
            f"(trades) from {portfolio.start_date} to {portfolio.end_date}."
        )
    facts += _never_traded(report, strategy)
    if portfolio is not None:
        facts.append(f"PORTFOLIO {validity_phrase(portfolio, report.settings)}.")
    row = _scorecard_row(report, strategy)
    if row is not None:
        facts += memorization_facts(report, row)
    return facts


def _p(value: float) -> str:
    return f"{value:.2g}" if value >= 0.001 else f"{value:.1e}"


def _blind_verdict(report: Report, row: ScorecardRow) -> str | None:
    twin = blind_twin_of(row.strategy)
    blind = _scorecard_row(report, twin) if twin else None
    return None if blind is None else blind.verdict


def memorization_facts(report: Report, row: ScorecardRow) -> list[str]:
    """What the memorisation checks say about an LLM strategy (docs/memorization.md): the paired
    named-vs-blind test, the recall probe, and where its decisions fall against the training cutoff."""
    facts = []
    if row.memorization_check_passed is not None:
        if not row.memorization_pairs:
            compared = "no decision was decided by both the named and the blind twin"
        else:
            compared = (
                f"named answers {100 * row.memorization_gap:+.1f} hit-rate points against the blind twin's "
                f"on {row.memorization_pairs} paired decisions (p {_p(row.memorization_p_value)})"
            )
        blind = _blind_verdict(report, row)
        if row.memorization_check_passed:
            facts.append(f"Memorisation check passed: the blind twin shows an edge too; {compared}.")
        elif blind == "edge":  # so the gap was significant
            facts.append(f"Memorisation check failed: {compared}: the edge may be memory of what happened next.")
        else:
            consequence = ": the edge may be memory, not skill" if row.verdict == "edge" else ""
            facts.append(
                f"Memorisation check not passed: its blind twin's verdict is {blind}{consequence}; {compared}."
            )
    if row.recall_probes:
        if row.recalls:
            facts.append(
                f"The model recalls past monthly returns (Spearman {row.recall_spearman_correlation:.2f}, "
                f"p {_p(row.recall_p_value)} over {row.recall_probes} probes): its named record may be memory."
            )
        else:
            correlation = "n/a" if row.recall_spearman_correlation is None else f"{row.recall_spearman_correlation:.2f}"
            p_value = "n/a" if row.recall_p_value is None else _p(row.recall_p_value)
            facts.append(
                f"No recall of past monthly returns found (Spearman {correlation}, p {p_value} over "
                f"{row.recall_probes} probes)."
            )
    if row.model is not None and row.signals:
        if row.training_cutoff is None:
            facts.append(
                f"The model's training cutoff is unknown: any of its {row.signals} decided signals may be in what it read."
            )
        elif not row.signals_after_cutoff:
            facts.append(
                f"Every decided signal predates the model's training cutoff ({row.training_cutoff}): "
                "the whole record is in-sample for memory."
            )
        else:
            facts.append(
                f"{row.signals_after_cutoff} of its decided signals come after the training cutoff "
                f"({row.training_cutoff}), the only ones memory cannot explain."
            )
    return facts


def _scorecard_row(report: Report, strategy: str) -> ScorecardRow | None:
    return next((r for r in report.scorecard or [] if r.strategy == strategy), None)


def _lead(report: Report) -> str:
    """The strategy the headline explains: the first one that states its own confidence (an LLM model or
    a signals file; not an un-sized twin), else the one with the most signals."""
    names = [r.strategy for r in report.scorecard or []]
    stating = [s for s in names if states_confidence(s)]
    if stating:
        return stating[0]
    counts = {s: (mix.signals if (mix := _mix_total(report, s)) else 0) for s in names}
    return max(names, key=lambda s: counts[s])


def _first_clause(reason: str | None) -> str:
    """'3 trades < 10 (scorecard_min_trades)' from 'too little to judge: 3 trades < 10 (...); ...'."""
    if not reason:
        return ""
    return reason.split(": ", 1)[-1].split(";", 1)[0].strip()


def _lead_reason(report: Report, strategy: str) -> str:
    row = _scorecard_row(report, strategy)
    mix = _mix_total(report, strategy)
    threshold = report.settings.confidence_threshold
    said = []
    if mix is None or mix.signals == 0:
        said.append("gave no signal")
    else:
        action, count = _actions(mix)[0]
        if count == mix.signals and count > 1:
            said.append(f"said {action} to all {count} decisions")
        elif count >= ONE_SIDED_SHARE * mix.signals:
            said.append(f"said {action} to {count} of {mix.signals} decisions")
        if threshold is not None and mix.acted * 2 < mix.signals:
            said.append(f"only {mix.acted} cleared the confidence threshold {threshold:g}")
    verdict = ""
    if row is not None and row.verdict == "insufficient_data":
        verdict = f"too little to judge: {_first_clause(row.verdict_reason)}"
    elif row is not None and row.verdict_reason:
        verdict = row.verdict_reason
    if not said:
        return f"{strategy}: {verdict}" if verdict else strategy
    return f"{strategy} {' and '.join(said)}" + (f", so it is {verdict}" if verdict else "")


def headline(report: Report) -> str:
    """One sentence first: which strategies show an edge, or that none does, and the one reason that
    matters most (explained for the first LLM model or signals file)."""
    if report.scorecard is None:
        return "No verdict yet: this warehouse has no scorecard (run dbt build)."
    if not report.scorecard:
        return "No strategy in the scorecard."
    edges = [r for r in report.scorecard if r.verdict == "edge"]
    failed = [r.strategy for r in edges if r.memorization_check_passed is False]
    if edges and len(failed) == len(edges):
        return (
            f"{', '.join(failed)} {'shows' if len(failed) == 1 else 'show'} an edge that may be memory: "
            "its memorisation check failed, so none of its signals is ready for paper trading."
        )
    if edges:
        names = ", ".join(
            f"{r.strategy} (hit rate {pct(r.hit_rate)} vs {pct(r.random_timing_hit_rate)} at random times"
            + ("; its memorisation check failed" if r.memorization_check_passed is False else "")
            + ")"
            for r in edges
        )
        others = len(report.scorecard) - len(edges)
        return f"{names} {'shows' if len(edges) == 1 else 'show'} an edge; {others} other strateg{'y does' if others == 1 else 'ies do'} not."
    return f"No strategy shows an edge: {_lead_reason(report, _lead(report))}."
