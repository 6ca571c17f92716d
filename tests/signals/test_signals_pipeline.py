"""``python -m pipeline --signals F --signals-name N --capital C`` loads the file after the price ingest
and builds: the external strategy is in every mart and the report, every backtest starts from C; a
refused file stops the job before anything is built; --capital must be a positive number."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from signals_helpers import write
from warehouse_helpers import run_cli

pytestmark = pytest.mark.warehouse

COST = 0.0005
JOB = ["pipeline", "--no-llm", "--tickers", "AAPL,MSFT", "--start", "2012-01-01", "--end", "2012-12-31"]
# AAPL: long from the first trading day after Friday 2012-01-06 through Thursday 2012-03-01 (the SELL
# acts on Friday 2012-03-02); MSFT: one HOLD, flat.
SIGNALS = "ticker,date,action,confidence\nAAPL,2012-01-06,BUY,0.9\nAAPL,2012-03-01,SELL,0.9\nMSFT,2012-01-06,HOLD,0.9\n"


def dbt_dirs(folder: Path) -> dict[str, str]:
    """Keep dbt's target/ and logs/ of the pipeline's build in the scratch folder."""
    return {"DBT_TARGET_PATH": str(folder / "target"), "DBT_LOG_PATH": str(folder / "logs")}


def test_the_pipeline_loads_the_file_and_builds_with_the_capital(tmp_path: Path) -> None:
    path = write(tmp_path, "mine.csv", SIGNALS)
    result = run_cli(
        [*JOB, "--signals", str(path), "--signals-name", "e2e", "--capital", "50000"], tmp_path, **dbt_dirs(tmp_path)
    )
    assert "BACKTEST: external:e2e   (capital 50,000;" in result.stdout
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select distinct initial_capital from mart_backtest_summary").fetchall() == [(50000.0,)]
        aapl = dict(
            con.execute(
                "select date, adj_close from raw.prices where ticker = 'AAPL' and date >= '2012-01-06'"
            ).fetchall()
        )
        days = sorted(aapl)
        entry, last_long = days[1], max(d for d in days if str(d) <= "2012-03-01")
        growth = (aapl[entry] / aapl[days[0]] - COST) * (aapl[last_long] / aapl[entry]) * (1 - COST)  # by hand
        total_return, final_equity, trades = con.execute(
            "select total_return, final_equity, trades from mart_backtest_summary "
            "where strategy = 'external:e2e' and ticker = 'AAPL'"
        ).fetchone()
        assert total_return == pytest.approx(growth - 1, rel=1e-9)
        assert final_equity == pytest.approx(50000 * growth, rel=1e-9)
        assert trades == 1
        tracked = con.execute("select count(*) from mart_signal_tracking where strategy = 'external:e2e'").fetchone()
        assert tracked == (3,)


def test_a_refused_file_stops_the_job_before_the_build(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.csv", SIGNALS + "AAPL,2012-02-01,BUY,1.5\n")
    result = run_cli(
        [*JOB, "--signals", str(path), "--signals-name", "e2e"], tmp_path, check=False, **dbt_dirs(tmp_path)
    )
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert (
        errors[0]
        == f"error: {path} line 5, column confidence: '1.5' is not between 0 and 1 (if it is a percentage, divide by 100)"
    )
    assert "nothing was built" in errors[-1]
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        schemas = {s for (s,) in con.execute("select distinct table_schema from information_schema.tables").fetchall()}
        assert schemas == {"raw"}  # prices ingested, nothing built
        assert con.execute("select count(*) from raw.signals").fetchone() == (0,)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--capital", "0"], "argument --capital: '0' is not a positive amount"),
        (["--capital", "-5"], "argument --capital: '-5' is not a positive amount"),
        (["--capital", "lots"], "argument --capital: 'lots' is not a number"),
        (["--capital", "inf"], "argument --capital: 'inf' is not a positive amount"),
        (["--signals", "x.csv"], "--signals and --signals-name go together"),
        (["--signals-name", "x"], "--signals and --signals-name go together"),
    ],
)
def test_bad_flags_stop_before_anything_runs(tmp_path: Path, args: list[str], message: str) -> None:
    # a small, LLM-free job around the bad flag, so a parser that let it through costs seconds, not a full run
    small_job = ["pipeline", "--no-llm", "--tickers", "IBM", "--start", "2012-01-02", "--end", "2012-01-31"]
    result = run_cli([*small_job, *args], tmp_path, check=False, **dbt_dirs(tmp_path))
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert not (tmp_path / "warehouse.duckdb").exists()
