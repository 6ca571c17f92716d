"""Source behaviour: yfinance's real quirks, fallback, and user CSV files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from warehouse_helpers import run_cli
from yfinance.exceptions import YFRateLimitError

from python_ingest.sources import yahoo
from warehouse_core import UserError

START, END = date(2024, 1, 2), date(2024, 1, 5)


def yfinance_frame(ticker: str) -> pd.DataFrame:
    """What yf.download(ticker, auto_adjust=False) returns: (Price, Ticker) MultiIndex columns."""
    index = pd.DatetimeIndex(pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]), name="Date")
    values = {
        "Adj Close": [184.0, 182.6, 180.3, 179.6],
        "Close": [185.6, 184.2, 181.9, 181.2],
        "High": [188.4, 185.9, 183.1, 182.8],
        "Low": [183.9, 183.4, 180.9, 180.2],
        "Open": [187.2, 184.2, 182.2, 181.99],
        "Volume": [82488700, 58414500, 71983600, 62303300],
    }
    frame = pd.DataFrame(values, index=index)
    frame.columns = pd.MultiIndex.from_product([frame.columns, [ticker]], names=["Price", "Ticker"])
    return frame


def test_multiindex_frame_is_normalised() -> None:
    frame = yahoo.fetch("AAPL", START, END, download=lambda t, s, e: yfinance_frame(t)).frame
    assert list(frame.columns) == ["date", "open", "high", "low", "close", "adj_close", "volume"]
    assert frame["date"].tolist() == [date(2024, 1, d) for d in (2, 3, 4, 5)]
    assert frame["adj_close"].tolist() == [184.0, 182.6, 180.3, 179.6]
    assert frame["close"].iloc[0] == 185.6 and frame["volume"].iloc[-1] == 62303300


def test_empty_frame_without_exception_gives_empty_result() -> None:
    assert yahoo.fetch("NOPE", START, END, download=lambda t, s, e: pd.DataFrame()).frame.empty


def test_rate_limit_is_retried_with_backoff_then_gives_up() -> None:
    delays: list[float] = []
    attempts = iter([YFRateLimitError(), YFRateLimitError(), yfinance_frame("MSFT")])

    def flaky(t: str, s: date, e: date) -> pd.DataFrame:
        outcome = next(attempts)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert len(yahoo.fetch("MSFT", START, END, download=flaky, sleep=delays.append).frame) == 4
    assert delays == [2.0, 4.0]

    def always_limited(t: str, s: date, e: date) -> pd.DataFrame:
        raise YFRateLimitError()

    with pytest.raises(UserError, match="rate limit hit 3 times"):
        yahoo.fetch("MSFT", START, END, download=always_limited, max_attempts=3, sleep=lambda _: None)


def test_real_yfinance_offline_falls_back_to_sample(tmp_path: Path) -> None:
    """The real yfinance code path: with no route to Yahoo it returns an empty frame, and the
    per-ticker fallback serves the ticker from the sample and records that."""
    result = run_cli(
        ["python_ingest", "--tickers", "MSFT", "--benchmark", "", "--start", "2012-01-01", "--source", "yahoo,sample"],
        tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select ticker, status, source, rows from raw.ingest_runs").fetchall() == [
            ("MSFT", "ok", "sample", 291)
        ]
        assert con.execute("select distinct source from raw.prices").fetchall() == [("sample",)]


def write_csv(folder: Path, name: str, text: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)


def test_csv_source_reads_documented_layout(tmp_path: Path) -> None:
    csv_dir = tmp_path / "prices"
    write_csv(
        csv_dir,
        "ACME.csv",
        "Date,Open,High,Low,Close,Adj Close,Volume\n2024-01-02,10,11,9,10.5,10.4,1000\n2024-01-03,10.5,11,10,10.8,10.7,1200\n",
    )
    pd.DataFrame(
        {"date": ["2024-01-02"], "open": [5.0], "high": [5.5], "low": [4.5], "close": [5.2], "volume": [10]}
    ).to_parquet(csv_dir / "WIDGET.parquet")
    run_cli(
        [
            "python_ingest",
            "--tickers",
            "ACME,WIDGET",
            "--benchmark",
            "",
            "--start",
            "2024-01-01",
            "--end",
            "2024-01-31",
            "--source",
            "csv",
            "--csv-dir",
            str(csv_dir),
        ],
        tmp_path,
    )
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select ticker, date, close, adj_close, volume, source from raw.prices order by ticker, date"
        ).fetchall()
    assert rows == [
        ("ACME", date(2024, 1, 2), 10.5, 10.4, 1000, "csv"),
        ("ACME", date(2024, 1, 3), 10.8, 10.7, 1200, "csv"),
        ("WIDGET", date(2024, 1, 2), 5.2, 5.2, 10, "csv"),  # no adj_close column: equals close
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "date,open,high,low,close,volume\n2024-01-02,10,11,9,not-a-number,5\n",
            "BAD.csv line 2, column close: 'not-a-number' is not a number",
        ),
        ("date,open,close\n2024-01-02,10,11\n", "BAD.csv lacks column(s) high, low, volume"),
        (
            "date,open,high,low,close,volume\n2024-01-02,10,11,9,10.5,5\n,10,11,9,10.6,5\n",
            "BAD.csv line 3, column date: is empty",
        ),
        ('date,open,high,low,close,volume\n"2024-01-02,10,11\n', "cannot read"),
    ],
)
def test_broken_csv_is_an_error_that_keeps_other_tickers(tmp_path: Path, content: str, message: str) -> None:
    csv_dir = tmp_path / "prices"
    write_csv(csv_dir, "BAD.csv", content)
    result = run_cli(
        [
            "python_ingest",
            "--tickers",
            "BAD,IBM",
            "--benchmark",
            "",
            "--start",
            "2012-01-01",
            "--source",
            "csv,sample",
            "--csv-dir",
            str(csv_dir),
        ],
        tmp_path,
        check=False,
    )
    assert result.returncode == 1
    assert message in result.stderr and "BAD.csv" in result.stderr
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        statuses = dict(con.execute("select ticker, status from raw.ingest_runs").fetchall())
        errors = con.execute("select error from raw.ingest_runs where ticker = 'BAD'").fetchone()[0]
    assert statuses == {"BAD": "error", "IBM": "ok"}
    assert message in errors
