"""The analysis the bank does, checked against figures computed here from the raw rows.

Nothing in this module calls the analytics code: each expected figure is
recomputed with plain SQL and Decimal arithmetic, then compared.
"""

import itertools
import math
import statistics
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.helpers import JANE, JOHN

CENT = Decimal("0.01")
ABC = "550e8400-e29b-41d4-a716-446655440004"


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def pct(part: Decimal, whole: Decimal) -> Decimal:
    return (part * 100 / whole).quantize(CENT, rounding=ROUND_HALF_EVEN)


def dec(number: float | int) -> Decimal:
    return Decimal(str(number))


def as_date(value: date | str) -> date:
    """A date column as read raw: SQLite gives text, PostgreSQL a date."""
    return value if isinstance(value, date) else date.fromisoformat(value)


class Ledger:
    """Reads raw rows; amounts are stored as integers of 10^-2, 10^-6 and 10^-8."""

    def __init__(self, engine: Engine, base: str = "USD") -> None:
        self.engine = engine
        self.base = base

    def rows(self, sql: str, **params: Any) -> list[Any]:
        # A connection per query, given back at once: one held for the ledger's life would
        # outlive the test's database and be closed only by the garbage collector.
        with self.engine.connect() as connection:
            return list(connection.execute(text(sql), params))

    def close(self, symbol: str, day: date) -> Decimal | None:
        found = self.rows(
            "SELECT close FROM instrument_prices WHERE symbol = :s AND price_date <= :d "
            "ORDER BY price_date DESC LIMIT 1",
            s=symbol,
            d=day,
        )
        return Decimal(found[0][0]).scaleb(-6) if found else None

    def usd(self, currency: str, day: date) -> Decimal:
        if currency == "USD":
            return Decimal(1)
        found = self.rows(
            "SELECT usd_per_unit FROM fx_rates WHERE currency = :c AND rate_date <= :d "
            "ORDER BY rate_date DESC LIMIT 1",
            c=currency,
            d=day,
        )
        return Decimal(found[0][0]).scaleb(-6)

    def rate(self, currency: str, day: date) -> Decimal:
        if currency == self.base:
            return Decimal(1)
        return (self.usd(currency, day) / self.usd(self.base, day)).quantize(Decimal("1e-8"))

    def as_of(self) -> date:
        return as_date(self.rows("SELECT max(price_date) FROM instrument_prices")[0][0])

    def holdings(self, oid: str) -> list[tuple[str, str, str, Decimal]]:
        return [
            (symbol, asset_type, currency, Decimal(quantity).scaleb(-8))
            for symbol, asset_type, currency, quantity in self.rows(
                "SELECT a.symbol, i.asset_type, i.currency, a.quantity FROM assets a "
                "JOIN instruments i ON i.symbol = a.symbol WHERE a.customer_oid = :o",
                o=oid,
            )
        ]

    def average_cost(self, oid: str, symbol: str) -> Decimal:
        held, cost = Decimal(0), Decimal(0)
        for kind, quantity, price in self.rows(
            "SELECT transaction_type, quantity, price FROM transactions WHERE customer_oid = :o "
            "AND symbol = :s AND transaction_type IN ('buy', 'sell') "
            "ORDER BY transaction_date, id",
            o=oid,
            s=symbol,
        ):
            q, p = Decimal(quantity).scaleb(-8), Decimal(price).scaleb(-6)
            if kind == "buy":
                held, cost = held + q, cost + q * p
            else:
                cost, held = cost * (held - q) / held, held - q
        return cost / held

    def average_cost_base(self, oid: str, symbol: str, currency: str) -> Decimal:
        """Per unit, in the base currency: each buy at the rate of its trade date."""
        held, cost = Decimal(0), Decimal(0)
        for kind, day, quantity, price in self.rows(
            "SELECT transaction_type, transaction_date, quantity, price FROM transactions "
            "WHERE customer_oid = :o AND symbol = :s AND transaction_type IN ('buy', 'sell') "
            "ORDER BY transaction_date, id",
            o=oid,
            s=symbol,
        ):
            q, p = Decimal(quantity).scaleb(-8), Decimal(price).scaleb(-6)
            if kind == "buy":
                held, cost = held + q, cost + q * p * self.rate(currency, as_date(day))
            else:
                cost, held = cost * (held - q) / held, held - q
        return cost / held


def summary(client: TestClient, oid: str, currency: str = "USD") -> dict[str, Any]:
    response = client.get(f"/customer/{oid}/summary", params={"currency": currency})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def assert_shares_add_to_100(shares: list[Decimal], values: list[Decimal]) -> None:
    total = sum(values, Decimal(0))
    assert sum(shares, Decimal(0)) == 100
    for share, value in zip(shares, values, strict=True):
        assert abs(share - value * 100 / total) < Decimal("0.01")


@pytest.mark.parametrize("currency", ["USD", "EUR"])
def test_holdings_are_valued_from_prices_trades_and_rates(
    client: TestClient, engine: Engine, currency: str
) -> None:
    ledger = Ledger(engine, currency)
    as_of = ledger.as_of()
    body = summary(client, JOHN, currency)
    assert body["base_currency"] == currency and body["as_of"] == as_of.isoformat()
    shown = {h["symbol"]: h for h in body["holdings"]}
    assert set(shown) == {symbol for symbol, *_ in ledger.holdings(JOHN)}
    for symbol, _, instrument_currency, quantity in ledger.holdings(JOHN):
        h = shown[symbol]
        price = ledger.close(symbol, as_of)
        assert price is not None
        rate = ledger.rate(instrument_currency, as_of)
        unit_cost = ledger.average_cost(JOHN, symbol)
        market_value_base = cents(quantity * price * rate)
        cost_base = cents(quantity * ledger.average_cost_base(JOHN, symbol, instrument_currency))
        assert dec(h["quantity"]) == quantity
        assert dec(h["current_price"]) == price
        assert dec(h["market_value"]) == cents(quantity * price)
        assert dec(h["market_value_base"]) == market_value_base
        assert dec(h["average_cost"]) == unit_cost.quantize(Decimal("1e-8"))
        assert dec(h["cost_basis"]) == cents(quantity * unit_cost)
        assert dec(h["cost_basis_base"]) == cost_base
        assert dec(h["unrealized_gain"]) == market_value_base - cost_base
        assert dec(h["unrealized_gain_percent"]) == pct(market_value_base - cost_base, cost_base)
    values = [dec(h["market_value_base"]) for h in body["holdings"]]
    assert values == sorted(values, reverse=True)
    assert_shares_add_to_100([dec(h["weight_percent"]) for h in body["holdings"]], values)


def test_totals_allocation_and_concentration(client: TestClient, engine: Engine) -> None:
    ledger = Ledger(engine)
    as_of = ledger.as_of()
    body = summary(client, JOHN)

    cash_by_currency: dict[str, Decimal] = defaultdict(Decimal)
    for currency, balance in ledger.rows(
        "SELECT currency, balance FROM bank_accounts WHERE customer_oid = :o", o=JOHN
    ):
        cash_by_currency[currency] += Decimal(balance).scaleb(-2)
    cash_base = {c: cents(v * ledger.rate(c, as_of)) for c, v in cash_by_currency.items()}
    cash = sum(cash_base.values(), Decimal(0))
    assert dec(body["total_cash_balance"]) == cash
    assert {c["currency"]: dec(c["balance"]) for c in body["cash_by_currency"]} == cash_by_currency

    holdings = [
        (
            asset_type,
            currency,
            cents(q * (ledger.close(s, as_of) or 0) * ledger.rate(currency, as_of)),
        )
        for s, asset_type, currency, q in ledger.holdings(JOHN)
    ]
    invested = sum((v for *_, v in holdings), Decimal(0))
    costs = [
        cents(q * ledger.average_cost_base(JOHN, s, c)) for s, _, c, q in ledger.holdings(JOHN)
    ]
    totals = body["totals"]
    assert dec(totals["cash"]) == cash
    assert dec(totals["invested"]) == invested
    assert dec(totals["cost_basis"]) == sum(costs, Decimal(0))
    assert dec(totals["unrealized_gain"]) == invested - sum(costs, Decimal(0))
    assert dec(totals["net_worth"]) == cash + invested

    by_type: dict[str, Decimal] = defaultdict(Decimal, {"cash": cash})
    by_currency: dict[str, Decimal] = defaultdict(Decimal, cash_base)
    for asset_type, currency, value in holdings:
        by_type[asset_type] += value
        by_currency[currency] += value
    for slices, expected in (
        (body["allocation"]["by_asset_type"], by_type),
        (body["allocation"]["by_currency"], by_currency),
    ):
        assert {s["key"]: dec(s["value"]) for s in slices} == expected
        assert_shares_add_to_100(
            [dec(s["percent"]) for s in slices], [dec(s["value"]) for s in slices]
        )

    weights = [v / invested for *_, v in holdings]
    largest = max(holdings, key=lambda h: h[2])
    concentration = body["concentration"]
    assert dec(concentration["herfindahl_index"]) == sum(
        (w * w for w in weights), Decimal(0)
    ).quantize(Decimal("0.0001"))
    assert (
        abs(dec(concentration["largest_position_weight_percent"]) - largest[2] * 100 / invested)
        < CENT
    )


def test_performance_and_volatility(client: TestClient, engine: Engine) -> None:
    ledger = Ledger(engine)
    as_of = ledger.as_of()
    held = ledger.holdings(JANE)

    def value_on(day: date, rounded: bool = True) -> Decimal:
        total = Decimal(0)
        for symbol, _, currency, quantity in held:
            close = ledger.close(symbol, day)
            if close is not None:
                value = quantity * close * ledger.rate(currency, day)
                total += cents(value) if rounded else value
        return total

    performance = summary(client, JANE)["performance"]
    starts = {
        "1d": date(2026, 9, 29),
        "mtd": date(2026, 8, 31),
        "1m": date(2026, 8, 31),
        "3m": date(2026, 6, 30),
        "ytd": date(2025, 12, 31),
        "1y": date(2025, 9, 30),
    }
    assert as_of == date(2026, 9, 30)
    end = value_on(as_of)
    for period in performance["periods"]:
        start = value_on(starts[period["period"]])
        assert period["start_date"] == starts[period["period"]].isoformat()
        assert dec(period["start_value"]) == start
        assert dec(period["end_value"]) == end
        assert dec(period["return_percent"]) == pct(end - start, start)
    assert [p["period"] for p in performance["periods"]] == ["1d", "mtd", "1m", "3m", "ytd", "1y"]

    days = [
        starts["1y"] + timedelta(n)
        for n in range((as_of - starts["1y"]).days + 1)
        if (starts["1y"] + timedelta(n)).weekday() < 5
    ]
    series = [float(value_on(d, rounded=False)) for d in days]
    returns = [b / a - 1 for a, b in itertools.pairwise(series)]
    expected = statistics.stdev(returns) * 252**0.5 * 100
    assert abs(performance["annualized_volatility_percent"] - expected) < 0.011


def test_customer_return_is_modified_dietz_over_the_securities(
    client: TestClient, engine: Engine
) -> None:
    ledger = Ledger(engine)
    as_of = ledger.as_of()
    trades = ledger.rows(
        "SELECT t.transaction_date, t.transaction_type, t.symbol, t.quantity, t.price, "
        "i.currency FROM transactions t JOIN instruments i ON i.symbol = t.symbol "
        "WHERE t.customer_oid = :o AND t.transaction_type IN ('buy', 'sell')",
        o=JOHN,
    )
    income = ledger.rows(
        "SELECT transaction_date, amount, currency FROM transactions "
        "WHERE customer_oid = :o AND transaction_type IN ('dividend', 'interest')",
        o=JOHN,
    )
    assert income, "John's holdings pay dividends and coupons"

    def worth(day: date) -> Decimal:
        held: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for traded, kind, symbol, quantity, _, currency in trades:
            if as_date(traded) <= day:
                sign = 1 if kind == "buy" else -1
                held[(symbol, currency)] += sign * Decimal(quantity).scaleb(-8)
        return sum(
            (q * (ledger.close(s, day) or 0) * ledger.rate(c, day) for (s, c), q in held.items()),
            Decimal(0),
        )

    for period in summary(client, JOHN)["performance"]["periods"]:
        start = date.fromisoformat(period["start_date"])
        days = Decimal((as_of - start).days)
        flows = weighted = Decimal(0)
        for traded, kind, _, quantity, price, currency in trades:
            day = as_date(traded)
            if start < day <= as_of:
                sign = 1 if kind == "buy" else -1
                amount = (
                    sign
                    * Decimal(quantity).scaleb(-8)
                    * Decimal(price).scaleb(-6)
                    * ledger.rate(currency, day)
                )
                flows, weighted = flows + amount, weighted + amount * (as_of - day).days / days
        for paid, amount, currency in income:
            day = as_date(paid)
            if start < day <= as_of:
                out = -Decimal(amount).scaleb(-2) * ledger.rate(currency, day)
                flows, weighted = flows + out, weighted + out * (as_of - day).days / days
        begin, end = worth(start), worth(as_of)
        expected = ((end - begin - flows) * 100 / (begin + weighted)).quantize(CENT)
        assert period["customer_return_method"] == "modified_dietz"
        assert dec(period["customer_return_percent"]) == expected, period["period"]
        assert dec(period["net_flows"]) == cents(flows)


def test_open_options_are_valued_by_black_scholes(client: TestClient, engine: Engine) -> None:
    ledger = Ledger(engine)
    as_of = ledger.as_of()
    normal = statistics.NormalDist()
    exposure = summary(client, JOHN)["derivatives"]
    (position,) = exposure["positions"]
    (row,) = ledger.rows(
        "SELECT underlying_symbol, strike, contracts, multiplier, expiry_date FROM "
        "derivative_transactions WHERE customer_oid = :o AND status = 'open'",
        o=JOHN,
    )
    symbol, strike, contracts, multiplier, expiry = row
    spot = float(ledger.close(symbol, as_of) or 0)
    k = strike / 10**6
    years = (as_date(expiry) - as_of).days / 365
    volatility, rate = 0.26, 0.04  # AAPL's volatility in the market model, the flat rate
    d1 = (math.log(spot / k) + (rate + volatility**2 / 2) * years) / (volatility * years**0.5)
    d2 = d1 - volatility * years**0.5
    call = spot * normal.cdf(d1) - k * math.exp(-rate * years) * normal.cdf(d2)
    assert abs(position["unit_value"] - call) < 0.0001
    assert abs(position["delta"] - normal.cdf(d1)) < 0.0001
    # Written: a liability, and short delta.
    assert position["market_value"] == -round(position["unit_value"] * contracts * multiplier, 2)
    assert position["delta_units"] < 0 and exposure["market_value"] == position["market_value"]


def test_foreign_spending_converts_each_payment_at_its_own_days_rate(
    client: TestClient, engine: Engine
) -> None:
    ledger = Ledger(engine, "EUR")
    # Each payment at its day's rate; each month's category total rounded to the cent.
    exact: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for paid, category, amount in ledger.rows(
        "SELECT transaction_date, category, amount FROM transactions "
        "WHERE customer_oid = :o AND transaction_type = 'card_payment'",
        o=JOHN,
    ):
        day = as_date(paid)
        exact[(day.isoformat()[:7], category)] -= Decimal(amount).scaleb(-2) * ledger.rate(
            "USD", day
        )
    by_month: dict[str, Decimal] = defaultdict(Decimal)
    for (month, _), total in exact.items():
        by_month[month] += cents(total)
    months = summary(client, JOHN, "EUR")["spending"]["by_month"]
    assert months and all(dec(m["total"]) == cents(by_month[m["month"]]) for m in months)


def test_derivative_exposure(client: TestClient, engine: Engine) -> None:
    ledger = Ledger(engine)
    as_of = ledger.as_of()
    exposure = summary(client, JANE)["derivatives"]
    rows = ledger.rows(
        "SELECT id, side, contracts, multiplier, premium, underlying_symbol, expiry_date "
        "FROM derivative_transactions WHERE customer_oid = :o AND status = 'open'",
        o=JANE,
    )
    paid = received = notional = Decimal(0)
    for _, side, contracts, multiplier, premium, underlying, _ in rows:
        units = contracts * multiplier
        if premium is not None:
            amount = cents(Decimal(premium).scaleb(-6) * units)
            paid, received = (
                (paid + amount, received) if side == "long" else (paid, received + amount)
            )
        notional += cents((ledger.close(underlying, as_of) or 0) * units)
    assert exposure["open_positions"] == len(rows) == 2
    assert dec(exposure["premium_paid"]) == paid
    assert dec(exposure["premium_received"]) == received
    assert dec(exposure["net_premium"]) == received - paid
    assert dec(exposure["notional"]) == notional
    expiries = sorted(as_date(r[6]) for r in rows)
    assert exposure["nearest_expiry"] == expiries[0].isoformat()
    soon = [r[0] for r in rows if as_date(r[6]) <= as_of + timedelta(days=30)]
    assert [p["id"] for p in exposure["expiring_within_30_days"]] == soon

    john = summary(client, JOHN)["derivatives"]
    assert [p["days_to_expiry"] for p in john["expiring_within_30_days"]] == [16]


def test_spending_insight(client: TestClient, engine: Engine) -> None:
    ledger = Ledger(engine)
    spending = summary(client, ABC)["spending"]
    by_month = {
        month: Decimal(total).scaleb(-2)
        for month, total in ledger.rows(
            "SELECT month, sum(amount) FROM spending WHERE customer_oid = :o GROUP BY month",
            o=ABC,
        )
    }
    by_category = {
        category: Decimal(total).scaleb(-2)
        for category, total in ledger.rows(
            "SELECT category, sum(amount) FROM spending WHERE customer_oid = :o GROUP BY category",
            o=ABC,
        )
    }
    assert {m["month"]: dec(m["total"]) for m in spending["by_month"]} == by_month
    assert {c["category"]: dec(c["total"]) for c in spending["by_category"]} == by_category
    assert {"office", "utilities", "marketing"} <= set(by_category)
    months = sorted(by_month)
    assert dec(spending["average_month"]) == cents(sum(by_month.values(), Decimal(0)) / len(months))
    assert spending["latest_month"] == months[-1]
    change = by_month[months[-1]] - by_month[months[-2]]
    assert dec(spending["latest_month_change"]) == change
    assert dec(spending["latest_month_change_percent"]) == pct(change, by_month[months[-2]])
    assert_shares_add_to_100(
        [dec(c["percent"]) for c in spending["by_category"]],
        [dec(c["total"]) for c in spending["by_category"]],
    )


def test_summary_in_another_currency_converts_with_the_rates_it_shows(client: TestClient) -> None:
    usd, eur = summary(client, JOHN, "USD"), summary(client, JOHN, "eur")
    assert eur["base_currency"] == "EUR"
    rate = dec(next(r["rate"] for r in eur["fx_rates"] if r["currency"] == "USD"))
    usd_cash = sum(
        dec(c["balance_base"]) for c in usd["cash_by_currency"] if c["currency"] == "USD"
    )
    eur_from_usd = next(c for c in eur["cash_by_currency"] if c["currency"] == "USD")
    assert dec(eur_from_usd["balance_base"]) == cents(usd_cash * rate)


def test_portfolio_summary_keeps_the_contract_keys(client: TestClient) -> None:
    summary_in_portfolio = client.get(f"/user-portfolio/{JOHN}").json()["portfolio_summary"]
    assert summary_in_portfolio == summary(client, JOHN)
    assert isinstance(summary_in_portfolio["total_cash_balance"], float)


# --- Market data ------------------------------------------------------------------------


def test_quotes_match_the_price_history(client: TestClient, engine: Engine) -> None:
    ledger = Ledger(engine)
    body = client.get("/market-data", params={"symbols": "AAPL,btc"}).json()
    assert [q["symbol"] for q in body["quotes"]] == ["AAPL", "BTC"]
    for quote in body["quotes"]:
        latest = ledger.close(quote["symbol"], ledger.as_of())
        assert latest is not None and dec(quote["price"]) == latest
        for key, since in (
            ("change_1d", ledger.as_of() - timedelta(days=1)),
            ("change_30d", ledger.as_of() - timedelta(days=30)),
            ("change_1y", date(2025, 9, 30)),
        ):
            previous = ledger.close(quote["symbol"], since)
            assert previous is not None
            assert dec(quote[key]["previous_close"]) == previous
            assert dec(quote[key]["change"]) == latest - previous
            assert dec(quote[key]["change_percent"]) == pct(latest - previous, previous)


def test_all_instruments_are_quoted_when_no_symbol_is_named(client: TestClient) -> None:
    quotes = client.get("/market-data").json()["quotes"]
    assert {q["asset_type"] for q in quotes} == {"stock", "etf", "bond", "crypto", "commodity"}
    assert len(quotes) == 19


def test_unknown_symbols_are_404_naming_them(client: TestClient) -> None:
    response = client.get("/market-data", params={"symbols": "AAPL,NOPE,ZZZ"})
    assert response.status_code == 404
    assert response.json()["detail"] == "Unknown symbols: NOPE, ZZZ"
    assert client.get("/market-data/NOPE/history").json()["detail"] == "Unknown symbols: NOPE"


def test_price_history_covers_two_years_and_the_range_asked(client: TestClient) -> None:
    body = client.get(
        "/market-data/SPY/history", params={"from": "2024-09-30", "to": "2026-09-30"}
    ).json()
    closes = body["closes"]
    assert closes[0]["date"] >= "2024-09-30" and closes[-1]["date"] == "2026-09-30"
    assert len(closes) > 500
    assert all(c["close"] > 0 for c in closes)
    assert [c["date"] for c in closes] == sorted(c["date"] for c in closes)


@pytest.mark.parametrize(
    ("low", "high"), [("US10Y", "SPY"), ("SPY", "TSLA"), ("GC", "BTC"), ("CB-VZ-2032", "ETH")]
)
def test_volatility_fits_the_asset_class(client: TestClient, low: str, high: str) -> None:
    def realized(symbol: str) -> float:
        closes = client.get(f"/market-data/{symbol}/history", params={"from": "2023-10-01"}).json()[
            "closes"
        ]
        values: list[float] = [c["close"] for c in closes]
        return statistics.stdev(b / a - 1 for a, b in itertools.pairwise(values))

    assert realized(low) < realized(high)


# --- Sections -------------------------------------------------------------------------------


def all_transactions(engine: Engine, oid: str) -> list[int]:
    with engine.connect() as connection:
        return [
            row[0]
            for row in connection.execute(
                text(
                    "SELECT id FROM transactions WHERE customer_oid = :o "
                    "ORDER BY transaction_date DESC, id DESC"
                ),
                {"o": oid},
            )
        ]


@pytest.mark.parametrize("limit", [1, 7, 50, 500])
@pytest.mark.parametrize("order", ["desc", "asc"])
def test_paging_gives_every_transaction_once_in_order(
    client: TestClient, engine: Engine, limit: int, order: str
) -> None:
    expected = all_transactions(engine, JOHN)
    if order == "asc":
        expected.reverse()
    seen: list[int] = []
    url: str | None = f"/customer/{JOHN}/transactions?limit={limit}&order={order}"
    while url:
        page = client.get(url).json()
        assert page["total"] == len(expected)
        assert len(page["transactions"]) <= limit
        seen += [t["id"] for t in page["transactions"]]
        url = page["next"]
        assert (url is None) == (page["next_cursor"] is None)
    assert seen == expected


def test_a_page_is_stable_while_new_transactions_arrive(client: TestClient, engine: Engine) -> None:
    first = client.get(f"/customer/{JOHN}/transactions", params={"limit": 10}).json()
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO transactions (customer_oid, transaction_date, transaction_type, "
                "description, amount, currency) "
                "VALUES (:o, '2026-09-30', 'deposit', 'new', 100, 'USD')"
            ),
            {"o": JOHN},
        )
    second = client.get(
        f"/customer/{JOHN}/transactions", params={"limit": 10, "cursor": first["next_cursor"]}
    ).json()
    ids = [t["id"] for t in first["transactions"] + second["transactions"]]
    assert ids == all_transactions(engine, JOHN)[1:21]


def test_filters_narrow_the_result_as_they_say(client: TestClient, engine: Engine) -> None:
    def fetch(**params: Any) -> list[dict[str, Any]]:
        page = client.get(f"/customer/{JOHN}/transactions", params={"limit": 500, **params}).json()
        assert page["total"] == len(page["transactions"])
        rows: list[dict[str, Any]] = page["transactions"]
        return rows

    everything = fetch()
    in_range = fetch(**{"from": "2026-05-01", "to": "2026-06-30"})
    assert in_range and len(in_range) < len(everything)
    assert all("2026-05-01" <= t["transaction_date"] <= "2026-06-30" for t in in_range)
    assert len(in_range) == sum(
        "2026-05-01" <= t["transaction_date"] <= "2026-06-30" for t in everything
    )

    buys = fetch(type="buy")
    assert buys and all(t["transaction_type"] == "buy" for t in buys)
    assert len(buys) == sum(t["transaction_type"] == "buy" for t in everything)

    aapl = fetch(symbol="aapl")
    assert {t["symbol"] for t in aapl} == {"AAPL"}
    assert sum(t["transaction_type"] in ("buy", "sell") for t in aapl) == 3
    assert {"dividend", "option_premium"} <= {t["transaction_type"] for t in aapl}

    big_outflows = fetch(max_amount="-1000")
    assert big_outflows and all(t["amount"] <= -1000 for t in big_outflows)
    mid = fetch(min_amount="-100.50", max_amount="100")
    assert mid and all(-100.5 <= t["amount"] <= 100 for t in mid)

    oldest_first = fetch(order="asc")
    assert [t["id"] for t in oldest_first] == [t["id"] for t in reversed(everything)]


def test_spending_section_groups_by_category_and_month(client: TestClient) -> None:
    by_category = client.get(f"/customer/{JOHN}/spending").json()
    by_month = client.get(
        f"/customer/{JOHN}/spending", params={"group_by": "month", "from_month": "2026-07"}
    ).json()
    assert by_category["group_by"] == "category"
    assert dec(by_category["total"]) == sum(dec(g["total"]) for g in by_category["groups"])
    assert [g["key"] for g in by_month["groups"]] == ["2026-07", "2026-08", "2026-09"]
    assert all(row["month"] >= "2026-07" for row in by_month["spending"])
    assert dec(by_month["total"]) == sum(dec(row["amount"]) for row in by_month["spending"])


def test_derivatives_section_filters_by_status(client: TestClient) -> None:
    everything = client.get(f"/customer/{JANE}/derivatives").json()
    open_only = client.get(f"/customer/{JANE}/derivatives", params={"status": "open"}).json()
    assert everything["count"] == 3 and open_only["count"] == 2
    assert {d["status"] for d in open_only["derivative_transactions"]} == {"open"}


def only_ours(item: dict[str, Any], like: dict[str, Any]) -> dict[str, Any]:
    """``item`` cut to the fields ``like`` has, nested objects too."""
    return {
        key: only_ours(item[key], value) if isinstance(value, dict) else item[key]
        for key, value in like.items()
    }


def test_assets_and_accounts_sections_agree_with_the_portfolio(client: TestClient) -> None:
    portfolio = client.get(f"/user-portfolio/{JOHN}").json()
    assets = client.get(f"/customer/{JOHN}/assets").json()
    accounts = client.get(f"/customer/{JOHN}/accounts").json()
    # The portfolio's items also carry the original implementation's fields; ours agree.
    assert assets["assets"] == [
        only_ours(a, like) for a, like in zip(portfolio["assets"], assets["assets"], strict=True)
    ]
    assert assets["holdings"] == portfolio["portfolio_summary"]["holdings"]
    for ours, item in zip(accounts["bank_accounts"], portfolio["bank_accounts"], strict=True):
        assert item["iban"] == (ours["iban"] or "")  # always a string there, as the original's
        assert {**only_ours(item, ours), "iban": ours["iban"]} == ours
    assert accounts["total_cash_balance"] == portfolio["portfolio_summary"]["total_cash_balance"]


def test_portfolio_sections_and_transactions_limit(client: TestClient) -> None:
    full = client.get(f"/user-portfolio/{JOHN}").json()
    compact = client.get(
        f"/user-portfolio/{JOHN}",
        params={"sections": "portfolio_summary,transactions", "transactions_limit": 5},
    ).json()
    assert set(compact) == {"customer_oid", "user", "portfolio_summary", "transactions"}
    assert compact["transactions"] == full["transactions"][:5]
    assert compact["portfolio_summary"]["total_transactions"] == len(full["transactions"])
    only_assets = client.get(f"/user-portfolio/{JOHN}", params={"sections": "assets"}).json()
    assert set(only_assets) == {"customer_oid", "user", "assets"}


@pytest.mark.parametrize(
    ("path", "params", "says"),
    [
        (f"/user-portfolio/{JOHN}", {"sections": "assets,secrets"}, "choose from assets"),
        (f"/user-portfolio/{JOHN}", {"transactions_limit": 0}, "greater than or equal to 1"),
        (f"/customer/{JOHN}/transactions", {"limit": 0}, "greater than or equal to 1"),
        (f"/customer/{JOHN}/transactions", {"limit": 10000}, "less than or equal to 500"),
        (
            f"/customer/{JOHN}/transactions",
            {"from": "2026-06-01", "to": "2026-05-01"},
            "on or before",
        ),
        (f"/customer/{JOHN}/transactions", {"from": "yesterday"}, "query field 'from'"),
        (f"/customer/{JOHN}/transactions", {"type": "theft"}, "query field 'type'"),
        (f"/customer/{JOHN}/transactions", {"min_amount": "5", "max_amount": "1"}, "min_amount"),
        (f"/customer/{JOHN}/transactions", {"min_amount": "0.001"}, "field 'min_amount'"),
        (f"/customer/{JOHN}/transactions", {"cursor": "Zm9yZ2Vk"}, "not a cursor this API issued"),
        (f"/customer/{JOHN}/summary", {"currency": "JPY"}, "use one of EUR, GBP, USD"),
        (f"/customer/{JOHN}/spending", {"from_month": "2026-13"}, "YYYY-MM"),
        (f"/customer/{JOHN}/spending", {"group_by": "weekday"}, "query field 'group_by'"),
        (f"/customer/{JOHN}/derivatives", {"status": "lost"}, "query field 'status'"),
        ("/market-data/AAPL/history", {"from": "2026-09-01", "to": "2026-01-01"}, "on or before"),
        ("/market-data", {"symbols": ""}, "at least one symbol"),
    ],
)
def test_bad_parameters_are_400_saying_what_is_allowed(
    client: TestClient, path: str, params: dict[str, Any], says: str
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == 400, response.text
    assert says in response.json()["detail"]


def test_a_tampered_or_borrowed_cursor_is_400(client: TestClient) -> None:
    page = client.get(f"/customer/{JOHN}/transactions", params={"limit": 5}).json()
    cursor = page["next_cursor"]
    tampered = cursor[:-3] + ("AAA" if cursor[-3:] != "AAA" else "BBB")
    response = client.get(f"/customer/{JOHN}/transactions", params={"limit": 5, "cursor": tampered})
    assert response.status_code == 400
    borrowed = client.get(
        f"/customer/{JOHN}/transactions", params={"limit": 5, "type": "buy", "cursor": cursor}
    )
    assert borrowed.status_code == 400
    assert "other filters" in borrowed.json()["detail"]
    other_customer = client.get(f"/customer/{JANE}/transactions", params={"cursor": cursor})
    assert other_customer.status_code == 400


def test_sections_of_unknown_customer_are_404(client: TestClient) -> None:
    for section in ("summary", "assets", "accounts", "transactions", "spending", "derivatives"):
        response = client.get(f"/customer/550e8400-e29b-41d4-a716-446655440000/{section}")
        assert response.status_code == 404, section
