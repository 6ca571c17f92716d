"""The verdict on signals files a user brings, on the bundled sample (AAPL, MSFT, IBM, GOOG, weekly
decisions 2003-2012), built by the real loader and real dbt: a file that is right about the next 20
days 30 % more often than chance gets `edge`; a file of random calls does not; a BUY-only file that
buys before rises has its skill seen by the signals test though trading it is nearly buy-and-hold;
a file that never buys is insufficient_data; a rerun gives byte-identical rows."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from warehouse_helpers import run_cli, run_dbt

pytestmark = pytest.mark.warehouse

HORIZON, FIRST, LAST = 20, "2003-01-01", "2012-06-30"


def weekly_forward_returns(warehouse_dir: Path) -> pd.DataFrame:
    """(ticker, date, forward 20-day return) every fifth trading day of the window, from raw.prices."""
    with duckdb.connect(str(warehouse_dir / "warehouse.duckdb"), read_only=True) as con:
        prices = con.sql("select ticker, date, adj_close from raw.prices where ticker <> '^GSPC' order by all").df()
    prices["forward"] = prices.groupby("ticker")["adj_close"].shift(-HORIZON) / prices["adj_close"] - 1
    window = prices[(prices["date"] >= FIRST) & (prices["date"] <= LAST)]
    return window.groupby("ticker").nth(slice(None, None, 5)).dropna(subset=["forward"])


def write_file(folder: Path, name: str, days: pd.DataFrame, actions: np.ndarray) -> Path:
    path = folder / f"{name}.csv"
    pd.DataFrame({"ticker": days["ticker"], "date": days["date"].dt.date, "action": actions, "confidence": 0.9}).to_csv(
        path, index=False
    )
    return path


@pytest.fixture(scope="module")
def judged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    warehouse_dir = tmp_path_factory.mktemp("verdict_files")
    run_cli(["python_ingest"], warehouse_dir)
    days = weekly_forward_returns(warehouse_dir)
    rng = np.random.default_rng(2026)
    up = days["forward"].to_numpy() > 0
    right, coin = rng.random(len(days)) < 0.30, rng.random(len(days)) < 0.5
    files = {
        "oracle": np.where(right, np.where(up, "BUY", "SELL"), np.where(coin, "BUY", "SELL")),
        "random": rng.choice(["BUY", "SELL", "HOLD"], len(days), p=[0.4, 0.3, 0.3]),
        "buy_only": np.where(rng.random(len(days)) < 0.5, np.where(up, "BUY", "HOLD"), np.where(coin, "BUY", "HOLD")),
        "never_buys": np.full(len(days), "SELL"),
    }
    for name, actions in files.items():
        path = write_file(warehouse_dir, name, days, actions)
        run_cli(["python_ingest.signals", "--file", str(path), "--name", name], warehouse_dir)
    run_dbt(["build", "--vars", '{"enable_llm": false}'], warehouse_dir)
    return warehouse_dir


def scorecard(warehouse_dir: Path) -> pd.DataFrame:
    with duckdb.connect(str(warehouse_dir / "warehouse.duckdb"), read_only=True) as con:
        return con.sql("select * from mart_strategy_scorecard order by strategy").df().set_index("strategy")


def test_a_file_with_a_known_skill_gets_an_edge_and_a_random_one_does_not(judged: Path) -> None:
    card = scorecard(judged)
    oracle, random = card.loc["external:oracle"], card.loc["external:random"]
    assert oracle["verdict"] == "edge", oracle["verdict_reason"]
    assert oracle["hit_rate"] - oracle["random_timing_hit_rate"] > oracle["minimum_detectable_effect"]
    assert oracle["signal_timing_adjusted_p_value"] < 0.05 and oracle["portfolio_timing_p_value"] < 0.5
    assert random["verdict"] == "no_edge", random["verdict_reason"]
    assert random["verdict_reason"].startswith("luck explains it")
    assert (card["random_timing_family_size"].dropna() == (card["verdict"] != "insufficient_data").sum()).all()


def test_a_buy_only_file_has_its_skill_seen_by_the_signals_test(judged: Path) -> None:
    row = scorecard(judged).loc["external:buy_only"]
    assert row["signal_timing_p_value"] < 0.01, "buying before rises is skill the signals test must see"
    assert row["verdict"] != "edge", row["verdict_reason"]
    assert "its signals alone beat random timing" in row["verdict_reason"]


def test_a_file_that_never_buys_is_insufficient_data(judged: Path) -> None:
    row = scorecard(judged).loc["external:never_buys"]
    assert row["verdict"] == "insufficient_data"
    assert "0 trades < 10" in row["verdict_reason"]


def test_no_signal_of_a_strategy_without_an_edge_is_ready_for_paper_trading(judged: Path) -> None:
    with duckdb.connect(str(judged / "warehouse.duckdb"), read_only=True) as con:
        ready = dict(
            con.sql(
                "select strategy, count(*) filter (where ready_for_paper_trading) from mart_signal_tracking group by all"
            ).fetchall()
        )
    assert ready["external:oracle"] > 0
    assert all(count == 0 for strategy, count in ready.items() if strategy != "external:oracle")


def test_a_rerun_on_unchanged_inputs_gives_byte_identical_rows(judged: Path, tmp_path: Path) -> None:
    shutil.copy(judged / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    run_dbt(["run", "--select", "mart_strategy_scorecard", "--vars", '{"enable_llm": false}'], tmp_path)
    before, after = scorecard(judged), scorecard(tmp_path)
    assert repr(before.to_dict("split")) == repr(after.to_dict("split"))
