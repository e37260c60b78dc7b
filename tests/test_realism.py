"""A generated book looked at the way a quant would: each test is a property a bank's data has.

The book (market data, the samples and a few hundred synthetic customers of a
fixed seed) is built once for the module; every figure is read back from the
raw rows.
"""

import itertools
import statistics
from collections import defaultdict
from datetime import date

import pytest
from sqlalchemy import Engine, text

from bulk_load import load_synthetic
from calendars import is_open
from db import create_db_engine, create_schema
from tests.test_analytics import as_date

CUSTOMERS = 600


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    engine = create_db_engine(f"sqlite:///{tmp_path_factory.mktemp('realism') / 'bank.db'}")
    create_schema(engine)
    load_synthetic(engine, CUSTOMERS, seed=7, batch_size=200, progress=False)
    return engine


def closes(book: Engine) -> dict[str, dict[date, int]]:
    found: dict[str, dict[date, int]] = defaultdict(dict)
    with book.connect() as connection:
        for symbol, day, close in connection.execute(
            text("SELECT symbol, price_date, close FROM instrument_prices")
        ):
            found[symbol][as_date(day)] = close
    return found


def daily_returns(history: dict[date, int]) -> dict[date, float]:
    days = sorted(history)
    return {b: history[b] / history[a] - 1 for a, b in itertools.pairwise(days)}


@pytest.mark.parametrize(
    ("first", "second", "at_least"),
    [("SPY", "VTI", 0.9), ("SPY", "QQQ", 0.8), ("BTC", "ETH", 0.6), ("US10Y", "US5Y", 0.8)],
)
def test_instruments_that_share_a_factor_move_together(
    book: Engine, first: str, second: str, at_least: float
) -> None:
    history = closes(book)
    a, b = daily_returns(history[first]), daily_returns(history[second])
    common = sorted(set(a) & set(b))
    assert statistics.correlation([a[d] for d in common], [b[d] for d in common]) >= at_least


def test_unrelated_instruments_do_not(book: Engine) -> None:
    history = closes(book)
    a, b = daily_returns(history["SPY"]), daily_returns(history["GC"])
    common = sorted(set(a) & set(b))
    assert abs(statistics.correlation([a[d] for d in common], [b[d] for d in common])) < 0.3


def test_equity_and_crypto_returns_have_fat_tails(book: Engine) -> None:
    history = closes(book)
    with book.connect() as connection:
        symbols = [
            row[0]
            for row in connection.execute(
                text("SELECT symbol FROM instruments WHERE asset_type IN ('stock','etf','crypto')")
            )
        ]
    for symbol in symbols:
        returns = list(daily_returns(history[symbol]).values())
        mean = statistics.fmean(returns)
        variance = statistics.fmean([(r - mean) ** 2 for r in returns])
        excess = statistics.fmean([(r - mean) ** 4 for r in returns]) / variance**2 - 3
        assert excess >= 2, symbol


def test_no_market_but_crypto_has_a_price_on_a_closed_day(book: Engine) -> None:
    with book.connect() as connection:
        calendars = {
            symbol: {"crypto": "every_day", "EUR": "XETR"}.get(
                asset_type, {"EUR": "XETR"}.get(currency, "NYSE")
            )
            for symbol, asset_type, currency in connection.execute(
                text("SELECT symbol, asset_type, currency FROM instruments")
            )
        }
    history = closes(book)
    for symbol, days in history.items():
        closed = [d for d in days if not is_open(calendars[symbol], d)]
        assert closed == [], symbol
    # Good Friday 2026 and Christmas 2025: no stock prices, but bitcoin trades.
    for holiday in (date(2026, 4, 3), date(2025, 12, 25)):
        assert holiday not in history["SPY"] and holiday in history["BTC"]
    assert len(history["BTC"]) > len(history["SPY"]) * 1.4
