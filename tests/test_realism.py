"""A generated book looked at the way a quant would: each test is a property a bank's data has.

The book (market data, the samples and a few hundred synthetic customers of a
fixed seed) is built once for the module; every figure is read back from the
raw rows.
"""

import itertools
import re
import statistics
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, text

from core.identifiers import is_valid_iban
from core.money import PRICE_SCALE
from db import create_db_engine, create_schema
from market.calendars import is_open, option_expiry
from market.fundamentals import FUNDAMENTALS, quote_figures
from synthetic.bulk_load import load_synthetic
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


def scalar(book: Engine, sql: str) -> Any:
    with book.connect() as connection:
        return connection.execute(text(sql)).scalar()


def test_payroll_lands_on_business_days_only(book: Engine) -> None:
    """Pay, pensions and business receipts by ACH or wire settle on business days of the
    account's banking calendar (the Federal Reserve's for USD: Juneteenth and an observed
    Independence Day included); pay due on a holiday moves to the business day before."""
    with book.connect() as connection:
        paid = connection.execute(
            text(
                "SELECT t.transaction_date, a.currency, t.channel FROM transactions t "
                "JOIN bank_accounts a ON a.id = t.account_id WHERE t.category = 'income'"
            )
        ).fetchall()
    assert len(paid) > CUSTOMERS
    assert {channel for _, _, channel in paid} >= {"ach", "wire"}
    calendars = {"USD": "US", "EUR": "DE", "GBP": "GB"}
    on_holidays = [(d, c) for d, c, _ in paid if not is_open(calendars[c], as_date(d))]
    assert on_holidays == []
    assert not is_open("US", date(2026, 6, 19)) and not is_open("US", date(2026, 7, 3))
    assert (
        scalar(book, "SELECT count(DISTINCT merchant) FROM transactions WHERE category = 'income'")
        > 100
    )


def test_statements_have_texture(book: Engine) -> None:
    descriptions = scalar(
        book,
        "SELECT count(DISTINCT description) FROM transactions "
        "WHERE transaction_type = 'card_payment'",
    )
    assert descriptions >= 500
    kinds = scalar(book, "SELECT count(DISTINCT transaction_type) FROM transactions")
    assert kinds >= 11
    channels = {
        row[0]
        for row in text_rows(
            book, "SELECT DISTINCT channel FROM transactions WHERE channel IS NOT NULL"
        )
    }
    assert {"card", "online", "ach", "wire", "atm", "transfer", "internal"} <= channels
    # Several payments in one category and month: their amounts differ.
    groups = text_rows(
        book,
        "SELECT customer_oid, substr(transaction_date, 1, 7), category, count(*), "
        "count(DISTINCT amount) FROM transactions WHERE transaction_type = 'card_payment' "
        "AND amount < 0 GROUP BY 1, 2, 3 HAVING count(*) >= 3",
    )
    assert len(groups) > 1000
    assert sum(1 for *_, n, distinct in groups if distinct == n) / len(groups) > 0.9
    late = scalar(
        book,
        "SELECT count(*) FROM transactions WHERE transaction_type = 'card_payment' "
        "AND substr(transaction_date, 9, 2) IN ('29', '30', '31')",
    )
    assert late > 1000
    smallest = scalar(
        book,
        "SELECT max(amount) FROM transactions "
        "WHERE transaction_type = 'card_payment' AND amount < 0",
    )
    assert smallest > -500  # a coffee, not a week's shopping


def test_retail_customers_make_20_to_80_card_payments_a_month(book: Engine) -> None:
    monthly = [
        count
        for (count,) in text_rows(
            book,
            "SELECT count(*) FROM transactions WHERE transaction_type = 'card_payment' "
            "AND transaction_date >= '2026-09-01' GROUP BY customer_oid",
        )
    ]
    assert statistics.median(monthly) >= 20 and max(monthly) <= 110


def test_recurring_bills_repeat_with_the_same_payee_about_the_same_day(book: Engine) -> None:
    rows = text_rows(
        book,
        "SELECT customer_oid, merchant, count(*), count(DISTINCT substr(transaction_date, 1, 7)) "
        "FROM transactions WHERE category IN ('rent', 'mortgage', 'phone', 'subscriptions') "
        "GROUP BY 1, 2",
    )
    assert len(rows) > CUSTOMERS
    assert sum(1 for _, _, n, months in rows if n == months and n >= 6) / len(rows) > 0.8


def test_holdings_sit_at_the_right_kind_of_institution(book: Engine) -> None:
    rows = text_rows(
        book,
        "SELECT i.asset_type, n.institution_type, a2.account_type FROM assets a "
        "JOIN instruments i ON i.symbol = a.symbol JOIN bank_accounts a2 ON a2.id = a.account_id "
        "JOIN institutions n ON n.id = a2.institution_id",
    )
    assert len(rows) > 100
    for asset_type, institution_type, account_type in rows:
        if asset_type == "crypto":
            assert (institution_type, account_type) == ("crypto_exchange", "crypto")
        else:
            assert (institution_type, account_type) == ("broker", "brokerage")


def test_ibans_agree_with_the_institution_country(book: Engine) -> None:
    rows = text_rows(
        book,
        "SELECT a.iban, n.country, n.bic FROM bank_accounts a "
        "JOIN institutions n ON n.id = a.institution_id WHERE a.iban IS NOT NULL",
    )
    assert len(rows) > 50
    for iban, country, bic in rows:
        assert is_valid_iban(iban) and iban[:2] == country and bic[4:6] == country
        if country == "GB":
            assert iban[4:8] == bic[:4]
    for (routing,) in text_rows(
        book, "SELECT routing_number FROM institutions WHERE routing_number IS NOT NULL"
    ):
        digits = [int(d) for d in routing]
        assert sum(w * d for w, d in zip((3, 7, 1) * 3, digits, strict=True)) % 10 == 0


def test_accounts_open_after_their_owner_joined_and_joins_spread_over_years(book: Engine) -> None:
    rows = text_rows(
        book,
        "SELECT u.created_at, a.opened_on FROM bank_accounts a "
        "JOIN users u ON u.customer_oid = a.customer_oid",
    )
    assert all(as_date(str(opened)[:10]) >= as_date(str(created)[:10]) for created, opened in rows)
    years = {str(created)[:4] for created, _ in rows}
    assert len(years) >= 10


def test_options_are_covered_priced_and_settled(book: Engine) -> None:
    history = closes(book)
    options = text_rows(
        book,
        "SELECT customer_oid, underlying_symbol, option_type, side, strategy, contracts, strike, "
        "premium, trade_date, expiry_date, status FROM derivative_transactions "
        "WHERE instrument_type = 'option'",
    )
    assert len(options) >= 10
    for (
        oid,
        symbol,
        option_type,
        _side,
        strategy,
        contracts,
        strike,
        premium,
        traded,
        expiry,
        status,
    ) in options:
        traded, expiry = as_date(traded), as_date(expiry)
        # The third Friday, or the Thursday before when the exchange closes that Friday.
        assert expiry == option_expiry(expiry.year, expiry.month) and is_open("NYSE", expiry)
        spot = history[symbol][max(d for d in history[symbol] if d <= traded)]
        intrinsic = max(spot - strike, 0) if option_type == "call" else max(strike - spot, 0)
        assert premium >= intrinsic
        if strategy == "covered_call":
            held = scalar(
                book,
                f"SELECT coalesce(sum(CASE transaction_type WHEN 'buy' THEN quantity "
                f"ELSE -quantity END), 0) FROM transactions WHERE customer_oid = '{oid}' "
                f"AND symbol = '{symbol}' AND transaction_type IN ('buy', 'sell') "
                f"AND transaction_date <= '{traded}'",
            )
            assert held >= contracts * 100 * 10**8
        if status in ("expired", "exercised"):
            settle = history[symbol][expiry]
            in_money = settle > strike if option_type == "call" else settle < strike
            assert in_money == (status == "exercised"), (symbol, strike, settle, status)
    premiums = scalar(
        book, "SELECT count(*) FROM transactions WHERE transaction_type = 'option_premium'"
    )
    assert premiums >= len(options)


def text_rows(book: Engine, sql: str) -> list[Any]:
    with book.connect() as connection:
        return list(connection.execute(text(sql)))


def test_descriptions_read_like_a_statement_with_no_exponents(book: Engine) -> None:
    """'DIVIDEND GOOGL 0.2 x 50', never '0.2 x 5E+1' (a Decimal's shortest form)."""
    with book.connect() as connection:
        descriptions = list(
            connection.execute(text("SELECT DISTINCT description FROM transactions")).scalars()
        )
    assert descriptions
    assert [d for d in descriptions if re.search(r"\d[eE][+-]?\d", d)] == []


def test_volume_follows_the_size_of_the_days_move_and_is_repeatable(book: Engine) -> None:
    history = closes(book)
    for symbol in ("AAPL", "SPY", "BTC"):
        days = sorted(history[symbol])[-250:]
        moves, volumes = [], []
        for before, day in itertools.pairwise(days):
            price, previous = (Decimal(history[symbol][d]) for d in (day, before))
            figures = quote_figures(symbol, day, price, previous)
            assert figures == quote_figures(symbol, day, price, previous)
            assert figures.volume is not None and figures.volume > 0
            moves.append(abs(float(price / previous) - 1))
            volumes.append(float(figures.volume))
        # Busy on days that move, and the typical volume on average.
        assert statistics.correlation(moves, volumes) > 0.4, symbol
        typical = FUNDAMENTALS[symbol].typical_volume
        assert typical is not None
        assert 0.75 * typical < statistics.mean(volumes) < 1.25 * typical, symbol


def test_quote_page_figures_are_plausible(book: Engine) -> None:
    history = closes(book)
    for symbol, facts in FUNDAMENTALS.items():
        day = max(history[symbol])
        price = Decimal(history[symbol][day]) / 10**PRICE_SCALE
        figures = quote_figures(symbol, day, price, None)
        if facts.earnings_per_share is not None:
            assert figures.pe_ratio is not None and 8 < figures.pe_ratio < 150, symbol
        if facts.units_outstanding is not None:
            assert figures.market_cap == (price * facts.units_outstanding).quantize(Decimal("0.01"))
        if figures.dividend_yield is not None:
            assert 0 <= figures.dividend_yield < 6, symbol
    assert quote_figures("US10Y", date(2026, 9, 30), Decimal(98), None).volume is None
    johnson = quote_figures("JNJ", date(2026, 9, 30), Decimal(160), None).dividend_yield
    assert johnson is not None and johnson > 2
