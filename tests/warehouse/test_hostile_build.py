"""One build fed what users and attackers feed it, with the network blocked:

* the warehouse folder's name holds an apostrophe (``o'brien``): every path reaches SQL quoted;
* one ticker's CSV has a price of 0, one of inf and one of 1e308: quality flags and drops those rows,
  the rest of that ticker and every other ticker build;
* every Python process of the job refuses and logs any non-loopback connection (tests/offline), and
  dbt runs without DBT_SEND_ANONYMOUS_USAGE_STATS: dbt_project.yml alone keeps its tracking off, the
  manifest says so, dbt.log sends no event, and the docs page, rendered in Chromium, loads no remote
  script.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pytest
from browser_helpers import dump_dom
from warehouse_helpers import offline_env, run_cli, run_dbt

pytestmark = pytest.mark.warehouse

BAD_PRICES = {"2012-03-01": "0", "2012-06-01": "inf", "2012-09-04": "1e308"}
REMOTE_SCRIPT = re.compile(r"<script[^>]*\bsrc=[\"']?(?:https?:)?//", re.IGNORECASE)


def random_walk_csv(path: Path) -> int:
    """Weekdays of 2012 with a seeded 1 %-a-day random walk (every row passes quality), three rows
    of which carry a price that is no market price; returns the number of rows."""
    rng = np.random.default_rng(7)
    days = [date(2012, 1, 2) + timedelta(days=i) for i in range(366)]
    days = [d for d in days if d.weekday() < 5 and d <= date(2012, 12, 31)]
    closes = 50 * np.exp(np.cumsum(rng.normal(0, 0.01, len(days))))
    lines = ["date,open,high,low,close,adj_close,volume"]
    for day, close in zip(days, closes, strict=True):
        price = BAD_PRICES.get(day.isoformat(), f"{close:.4f}")
        lines.append(f"{day},{close:.4f},{close * 1.01:.4f},{close * 0.99:.4f},{price},{price},{1000 + day.day}")
    path.write_text("\n".join(lines) + "\n")
    return len(days)


def dbt_env(folder: Path, attempts: Path) -> dict[str, str | None]:
    """dbt's files in the scratch folder, the network blocked, and no tracking setting but the project's."""
    return {
        "DBT_TARGET_PATH": str(folder / "target"),
        "DBT_LOG_PATH": str(folder / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": None,
        **offline_env(attempts),
    }


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, int]:
    """(warehouse folder, network attempts log, rows in the bad ticker's file) after the job ran."""
    root = tmp_path_factory.mktemp("hostile")
    folder = root / "o'brien"
    prices = root / "prices"
    prices.mkdir()
    rows = random_walk_csv(prices / "ODD.csv")
    attempts = root / "network_attempts.log"
    job = ["pipeline", "--no-llm", "--tickers", "ODD,IBM", "--start", "2012-01-01", "--end", "2012-12-31"]
    result = run_cli(
        [*job, "--source", "csv,sample", "--csv-dir", str(prices)], folder, check=False, **dbt_env(folder, attempts)
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return folder, attempts, rows


def test_bad_price_rows_are_flagged_and_dropped_and_everything_else_builds(hostile_build) -> None:
    folder, _, rows = hostile_build
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as con:
        flagged = con.execute(
            "select cast(date as varchar), is_implausible_price from int_price_quality "
            "where ticker = 'ODD' and not passes_quality order by date"
        ).fetchall()
        clean = dict(con.execute("select ticker, count(*) from int_prices_clean group by ticker").fetchall())
        in_marts = {t for (t,) in con.execute("select distinct ticker from mart_dataset_splits").fetchall()}
        worst = con.execute("select max(abs(daily_return)) from int_prices_clean where ticker = 'ODD'").fetchone()[0]
    assert flagged == [(day, True) for day in BAD_PRICES], "exactly the three bad rows are dropped"
    assert clean["ODD"] == rows - 3 and clean["IBM"] == 250
    assert in_marts == {"ODD", "IBM"}
    assert worst < 0.1, "returns run between the clean rows around each bad one"


def test_an_apostrophe_in_the_warehouse_folder_reaches_sql_as_data(hostile_build) -> None:
    folder, _, _ = hostile_build
    assert (folder / "marts" / "fct_prices_daily.parquet").is_file()
    assert (folder / "marts" / "mart_backtest_summary.parquet").is_file()
    assert sorted(p.name for p in (folder / "training").iterdir()) == ["ticker=IBM", "ticker=ODD"]


def test_string_vars_reach_sql_as_data(hostile_build) -> None:
    """A date or a model name in vars is one SQL string literal (macro sql_string_literal), whatever
    quotes it holds: the hostile llm_end below stays inside its cast and fails there as a bad date."""
    folder, attempts, _ = hostile_build
    hostile = "2012-12-31' as date) as window_end, 1 as injected --"
    dbt_vars = {"llm_end": hostile, "llm_training_cutoffs": {"o'brien:1b": "2023-01-31"}}
    run_dbt(
        ["compile", "-s", "int_llm_context", "int_llm_training_cutoffs", "--vars", json.dumps(dbt_vars)],
        folder,
        **dbt_env(folder, attempts),
    )
    compiled = folder / "target" / "compiled" / "signal_warehouse" / "models" / "intermediate" / "llm"
    assert (
        "cast('2012-12-31'' as date) as window_end, 1 as injected --' as date)"
        in (compiled / "int_llm_context.sql").read_text()
    )
    assert "'o''brien:1b' as model" in (compiled / "int_llm_training_cutoffs.sql").read_text()


def test_no_tracking_event_and_no_network_attempt(hostile_build) -> None:
    folder, attempts, _ = hostile_build
    manifest = json.loads((folder / "target" / "manifest.json").read_text())
    assert manifest["metadata"]["send_anonymous_usage_stats"] is False
    log = (folder / "logs" / "dbt.log").read_text()
    assert "Sending event" not in log and "snowplow" not in log.lower()
    assert not attempts.exists(), attempts.read_text()


def test_the_docs_page_loads_no_remote_script(hostile_build, chromium: str, tmp_path: Path) -> None:
    folder, attempts, _ = hostile_build
    run_dbt(["docs", "generate", "--static"], folder, DBT_SEND_ANONYMOUS_USAGE_STATS=None, **offline_env(attempts))
    page = folder / "target" / "static_index.html"
    dom = dump_dom(page, tmp_path / "profile")
    assert "signal_warehouse" in dom, "the page rendered the project"
    assert not REMOTE_SCRIPT.search(dom), REMOTE_SCRIPT.search(dom)
    assert not attempts.exists(), attempts.read_text()
