"""Portfolio arithmetic on plain values: valuation, allocation, performance, spending trend.

Nothing here touches the database; ``service.py`` gathers the rows and calls
these functions. Everything is ``Decimal``: amounts are rounded to the cent
only when shown, percentages to two places, and percentages that describe
shares of one whole are rounded so that they add up to exactly 100.
"""

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal
from functools import lru_cache
from itertools import pairwise

from money import to_cents
from pricing import black_scholes
from schemas import (
    Allocation,
    AllocationSlice,
    AssetOut,
    BankAccountOut,
    CashBalance,
    CategoryTotal,
    Concentration,
    DerivativeExposure,
    DerivativeOut,
    ExpiringPosition,
    FxRateUsed,
    HasData,
    Holding,
    MonthTotal,
    Performance,
    PeriodReturn,
    PortfolioSummary,
    PositionValue,
    SpendingInsight,
    SpendingOut,
    Totals,
)

HUNDRED = Decimal(100)
PERCENT_PLACES = Decimal("0.01")
TRADING_DAYS_PER_YEAR = 252


def percent(part: Decimal, whole: Decimal) -> Decimal | None:
    """``part`` as a percentage of ``whole`` to two places; None when ``whole`` is zero."""
    if not whole:
        return None
    return (part * HUNDRED / whole).quantize(PERCENT_PLACES)


def shares_of_100(values: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Percentages of the total, to two places, that add up to exactly 100.

    Largest-remainder rounding: each share is rounded down to hundredths of a
    percent, and the hundredths left over go to the largest remainders (ties to
    the key that sorts first), so the figures shown always sum to 100.00, also
    when a value is negative (an overdrawn account).
    """
    total = sum(values.values(), Decimal(0))
    if not total:
        return dict.fromkeys(values, Decimal("0.00"))
    exact = {key: value * 10_000 / total for key, value in values.items()}
    floors = {key: int(share.to_integral_value(ROUND_FLOOR)) for key, share in exact.items()}
    leftover = 10_000 - sum(floors.values())
    by_remainder = sorted(exact, key=lambda key: (-(exact[key] - floors[key]), key))
    for key in by_remainder[:leftover]:
        floors[key] += 1
    return {key: Decimal(units).scaleb(-2) for key, units in floors.items()}


@dataclass(frozen=True)
class Trade:
    on: date
    quantity: Decimal
    """Positive for a buy, negative for a sell."""
    price: Decimal


def average_cost(trades: Iterable[Trade]) -> tuple[Decimal, Decimal | None]:
    """Quantity held and its average cost per unit, by the average-cost method.

    A buy adds its cost; a sell removes units at the running average, leaving
    the average unchanged. None when nothing is held.
    """
    quantity, cost = Decimal(0), Decimal(0)
    # Stable sort: trades of one day keep the order they were booked in.
    for trade in sorted(trades, key=lambda t: t.on):
        if trade.quantity > 0:
            cost += trade.quantity * trade.price
        elif quantity:
            cost -= cost * (-trade.quantity) / quantity
        quantity += trade.quantity
    if quantity <= 0:
        return Decimal(0), None
    return quantity, cost / quantity


def average_cost_base(trades: Iterable[Trade], fx: "Converter", currency: str) -> Decimal | None:
    """Average cost per unit in the base currency, each buy at its trade date's rate."""
    quantity, cost = Decimal(0), Decimal(0)
    for trade in sorted(trades, key=lambda t: t.on):
        if trade.quantity > 0:
            cost += trade.quantity * trade.price * fx.rate(currency, trade.on)
        elif quantity:
            cost -= cost * (-trade.quantity) / quantity
        quantity += trade.quantity
    return cost / quantity if quantity > 0 else None


class History:
    """A daily series that answers "the value on or before this date".

    A worker keeps the market's histories for as long as the data does not change, and
    every summary asks them about the same days: the answers are remembered.
    """

    def __init__(self, points: Iterable[tuple[date, Decimal]]) -> None:
        ordered = sorted(points)
        self.dates = [d for d, _ in ordered]
        self.values = [v for _, v in ordered]
        self._answers: dict[date, Decimal | None] = {}
        self._columns: dict[tuple[date, ...], list[Decimal | None]] = {}

    def on_each(self, days: tuple[date, ...]) -> list[Decimal | None]:
        """``on_or_before`` for every day of ``days``, remembered for that tuple."""
        found = self._columns.get(days)
        if found is None:
            found = self._columns[days] = [self.on_or_before(day) for day in days]
        return found

    def on_or_before(self, day: date) -> Decimal | None:
        try:
            return self._answers[day]
        except KeyError:
            index = bisect_right(self.dates, day)
            value = self._answers[day] = self.values[index - 1] if index else None
            return value


def months_before(day: date, months: int) -> date:
    """The same day ``months`` calendar months earlier, clamped to the month's end
    (and to the first day the calendar has)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    if year < 1:
        return date.min
    for last_day in (day.day, 30, 29):
        with suppress(ValueError):
            return date(year, month + 1, min(day.day, last_day))
    return date(year, month + 1, 28)


def period_start(as_of: date, months: int) -> date:
    """Month-end to month-end: from a month's last day, the last day ``months`` months earlier
    (2026-09-30 -> 2026-08-31, not 08-30); from any other day, the same day of the month."""
    if (as_of + timedelta(1)).day != 1:
        return months_before(as_of, months)
    year, month = divmod(as_of.year * 12 + as_of.month - months, 12)
    return date(year, month + 1, 1) - timedelta(1)


def period_starts(as_of: date) -> dict[str, date]:
    """Where each performance period starts; the value on or before that date is the base."""
    return {
        "1m": period_start(as_of, 1),
        "3m": period_start(as_of, 3),
        "ytd": date(as_of.year - 1, 12, 31),
        "1y": period_start(as_of, 12),
    }


def calendar_months(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` (both YYYY-MM), in order."""
    year, month = int(first[:4]), int(first[5:])
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    return months


@lru_cache(maxsize=64)
def weekdays(start: date, end: date) -> tuple[date, ...]:
    """Monday to Friday from ``start`` to ``end``; the same tuple for the same two days."""
    days = (start + timedelta(n) for n in range((end - start).days + 1))
    return tuple(d for d in days if d.weekday() < 5)


def annualized_volatility(values: Sequence[Decimal]) -> Decimal | None:
    """Sample standard deviation of daily returns times sqrt(252), as a percentage."""
    returns = [b / a - 1 for a, b in pairwise(values) if a]
    if len(returns) < 2:
        return None
    mean = sum(returns, Decimal(0)) / len(returns)
    variance = sum(((r - mean) ** 2 for r in returns), Decimal(0)) / (len(returns) - 1)
    return (variance.sqrt() * Decimal(TRADING_DAYS_PER_YEAR).sqrt() * HUNDRED).quantize(
        PERCENT_PLACES
    )


RATE_PLACES = Decimal("0.00000001")
UNIT_PLACES = Decimal("0.0001")


class Converter:
    """Converts between currencies through their US-dollar rates on a given day.

    A cross rate is rounded to eight places before use, so every converted
    figure can be reproduced from the rate the summary shows.
    """

    def __init__(self, usd_per_unit: Mapping[str, History], base: str) -> None:
        self.usd_per_unit = usd_per_unit
        self.base = base
        self._rates: dict[tuple[str, date], tuple[Decimal, date]] = {}
        self._columns: dict[tuple[str, tuple[date, ...]], list[Decimal | None]] = {}

    def _usd(self, currency: str, day: date) -> tuple[Decimal, date | None]:
        if currency == "USD":
            return Decimal(1), None
        history = self.usd_per_unit.get(currency)
        index = bisect_right(history.dates, day) if history else 0
        if not history or not index:
            raise LookupError(f"no {currency} exchange rate on or before {day}")
        return history.values[index - 1], history.dates[index - 1]

    def rate(self, currency: str, day: date) -> Decimal:
        return self.rate_with_date(currency, day)[0]

    def rates_on(self, currency: str, days: tuple[date, ...]) -> list[Decimal | None]:
        """``rate`` for every day of ``days`` (None where there is none), remembered."""
        found = self._columns.get((currency, days))
        if found is None:
            found = self._columns[currency, days] = [self._rate_or_none(currency, d) for d in days]
        return found

    def _rate_or_none(self, currency: str, day: date) -> Decimal | None:
        try:
            return self.rate(currency, day)
        except LookupError:
            return None

    def rate_with_date(self, currency: str, day: date) -> tuple[Decimal, date]:
        """Units of the base currency per unit of ``currency``, and the date of the rate."""
        if currency == self.base:
            return Decimal(1), day
        known = self._rates.get((currency, day))
        if known is not None:
            return known
        usd, rate_day = self._usd(currency, day)
        base_usd, base_day = self._usd(self.base, day)
        dates = [d for d in (rate_day, base_day) if d is not None]
        found = self._rates[currency, day] = (
            (usd / base_usd).quantize(RATE_PLACES),
            max(dates, default=day),
        )
        return found


@dataclass(frozen=True)
class CashEvent:
    """A card payment (negative) or a dividend or coupon (positive), on its own day."""

    on: date
    category: str
    currency: str
    amount: Decimal
    symbol: str | None = None


@dataclass(frozen=True)
class PortfolioInputs:
    """What the summary is computed from: rows already read, and price histories."""

    customer_oid: str
    base_currency: str
    as_of: date
    assets: Sequence[AssetOut]
    accounts: Sequence[BankAccountOut]
    trades: Mapping[str, Sequence[Trade]]
    prices: Mapping[str, History]
    usd_per_unit: Mapping[str, History]
    spending: Sequence[SpendingOut]
    derivatives: Sequence[DerivativeOut]
    transaction_count: int
    converter: "Converter | None" = None
    """A converter over ``usd_per_unit`` to the base currency that may be shared and kept."""
    card_payments: Sequence[CashEvent] = ()
    """Card payments in currencies other than the base one, converted one by one."""
    income: Sequence[CashEvent] = ()
    """Dividends and coupons paid out of the securities into cash."""
    instrument_currency: Mapping[str, str] = field(default_factory=dict)
    volatility: Mapping[str, float] = field(default_factory=dict)


def summarize(p: PortfolioInputs) -> PortfolioSummary:
    fx = p.converter or Converter(p.usd_per_unit, p.base_currency)
    now = p.as_of

    cash_balances = cash_by_currency(p.accounts, fx, now)
    cash = sum((c.balance_base for c in cash_balances), Decimal(0))
    holdings = value_holdings(p.assets, p.trades, fx, p.as_of)
    invested = sum((h.market_value_base for h in holdings), Decimal(0))
    costed = [h for h in holdings if h.cost_basis_base is not None]
    cost_basis = sum((h.cost_basis_base or Decimal(0) for h in costed), Decimal(0))
    gain = sum((h.unrealized_gain or Decimal(0) for h in costed), Decimal(0))
    spending = _spending_insight(p.spending, fx, now, p.card_payments)
    total_spending = sum((c.total for c in spending.by_category), Decimal(0))

    currencies = (
        {a.currency for a in p.accounts}
        | {a.currency for a in p.assets}
        | {s.currency for s in p.spending}
        | {d.currency for d in p.derivatives}
    ) - {p.base_currency}
    rates = [
        FxRateUsed(currency=c, rate=rate, rate_date=day)
        for c in sorted(currencies)
        for rate, day in [fx.rate_with_date(c, now)]
    ]

    return PortfolioSummary(
        customer_oid=p.customer_oid,
        base_currency=p.base_currency,
        as_of=now,
        total_cash_balance=cash,
        total_spending=total_spending,
        total_assets=len(p.assets),
        total_accounts=len(p.accounts),
        total_transactions=p.transaction_count,
        total_spending_categories=len(spending.by_category),
        total_derivative_positions=len(p.derivatives),
        has_data=HasData(
            assets=bool(p.assets),
            accounts=bool(p.accounts),
            transactions=bool(p.transaction_count),
            spending=bool(p.spending),
            derivatives=bool(p.derivatives),
        ),
        fx_rates=rates,
        cash_by_currency=cash_balances,
        holdings=holdings,
        totals=Totals(
            cash=cash,
            invested=invested,
            cost_basis=cost_basis,
            unrealized_gain=gain,
            unrealized_gain_percent=percent(gain, cost_basis),
            net_worth=cash + invested,
        ),
        allocation=_allocation(holdings, cash_balances),
        concentration=_concentration(holdings, invested),
        performance=_performance(p, fx),
        derivatives=_derivative_exposure(p, fx),
        spending=spending,
    )


def cash_by_currency(
    accounts: Sequence[BankAccountOut], fx: Converter, now: date
) -> list[CashBalance]:
    grouped: dict[str, list[Decimal]] = defaultdict(list)
    for account in accounts:
        grouped[account.currency].append(account.balance)
    result = []
    for currency in sorted(grouped):
        balance = sum(grouped[currency], Decimal(0))
        result.append(
            CashBalance(
                currency=currency,
                balance=balance,
                balance_base=to_cents(balance * fx.rate(currency, now)),
                accounts=len(grouped[currency]),
            )
        )
    return result


def value_holdings(
    assets: Sequence[AssetOut], trades: Mapping[str, Sequence[Trade]], fx: Converter, as_of: date
) -> list[Holding]:
    """Each holding valued in its currency and the base one, with cost, gain and weight."""
    holdings = []
    for asset in assets:
        rate = fx.rate(asset.currency, as_of)
        _, unit_cost = average_cost(trades.get(asset.symbol, ()))
        unit_cost_base = average_cost_base(trades.get(asset.symbol, ()), fx, asset.currency)
        market_value_base = to_cents(asset.quantity * asset.current_price * rate)
        cost_base = None if unit_cost_base is None else to_cents(asset.quantity * unit_cost_base)
        gain = None if cost_base is None else market_value_base - cost_base
        holdings.append(
            Holding(
                symbol=asset.symbol,
                name=asset.name,
                asset_type=asset.asset_type,
                currency=asset.currency,
                quantity=asset.quantity,
                average_cost=None if unit_cost is None else unit_cost.quantize(RATE_PLACES),
                cost_basis=None if unit_cost is None else to_cents(asset.quantity * unit_cost),
                current_price=asset.current_price,
                price_date=asset.price_date,
                market_value=to_cents(asset.quantity * asset.current_price),
                market_value_base=market_value_base,
                cost_basis_base=cost_base,
                unrealized_gain=gain,
                unrealized_gain_percent=None
                if gain is None or cost_base is None
                else percent(gain, cost_base),
                weight_percent=Decimal(0),
            )
        )
    weights = shares_of_100({h.symbol: h.market_value_base for h in holdings})
    holdings.sort(key=lambda h: (-h.market_value_base, h.symbol))
    return [h.model_copy(update={"weight_percent": weights[h.symbol]}) for h in holdings]


def _slices(values: Mapping[str, Decimal]) -> list[AllocationSlice]:
    shares = shares_of_100(values)
    ordered = sorted(values, key=lambda key: (-values[key], key))
    return [AllocationSlice(key=k, value=values[k], percent=shares[k]) for k in ordered]


def _allocation(holdings: Sequence[Holding], cash: Sequence[CashBalance]) -> Allocation:
    by_type: dict[str, Decimal] = defaultdict(Decimal)
    by_currency: dict[str, Decimal] = defaultdict(Decimal)
    for h in holdings:
        by_type[h.asset_type] += h.market_value_base
        by_currency[h.currency] += h.market_value_base
    for c in cash:
        by_type["cash"] += c.balance_base
        by_currency[c.currency] += c.balance_base
    return Allocation(by_asset_type=_slices(by_type), by_currency=_slices(by_currency))


def _concentration(holdings: Sequence[Holding], invested: Decimal) -> Concentration:
    if not holdings or not invested:
        return Concentration(
            largest_position=None, largest_position_weight_percent=None, herfindahl_index=0
        )
    hhi = sum(((h.market_value_base / invested) ** 2 for h in holdings), Decimal(0))
    return Concentration(
        largest_position=holdings[0].symbol,
        largest_position_weight_percent=holdings[0].weight_percent,
        herfindahl_index=hhi.quantize(Decimal("0.0001")),
    )


def _performance(p: PortfolioInputs, fx: Converter) -> Performance:
    def value_on(day: date, *, rounded: bool) -> Decimal:
        total = Decimal(0)
        for asset in p.assets:
            close = p.prices[asset.symbol].on_or_before(day)
            if close is None:
                continue
            value = asset.quantity * close * fx.rate(asset.currency, day)
            total += to_cents(value) if rounded else value
        return total

    end_value = value_on(p.as_of, rounded=True)
    periods = []
    for name, start in period_starts(p.as_of).items():
        start_value = value_on(start, rounded=True)
        gain = end_value - start_value
        own = _modified_dietz(p, fx, start, p.as_of)
        periods.append(
            PeriodReturn(
                period=name,
                start_date=start,
                start_value=start_value,
                end_value=end_value,
                gain=gain,
                return_percent=percent(gain, start_value),
                customer_return_percent=own[0],
                portfolio_start_value=own[1],
                portfolio_end_value=own[2],
                net_flows=own[3],
            )
        )
    days = weekdays(months_before(p.as_of, 12), p.as_of)
    columns = [
        (asset, p.prices[asset.symbol].on_each(days), fx.rates_on(asset.currency, days))
        for asset in p.assets
    ]
    series = []
    for index, day in enumerate(days):
        total = Decimal(0)
        for asset, closes, rates in columns:
            close, rate = closes[index], rates[index]
            if close is None:
                continue
            if rate is None:
                rate = fx.rate(asset.currency, day)  # raises, saying which rate is missing
            total += asset.quantity * close * rate
        series.append(total)
    return Performance(
        as_of=p.as_of,
        periods=periods,
        annualized_volatility_percent=annualized_volatility(series) if p.assets else None,
    )


def _modified_dietz(
    p: PortfolioInputs, fx: Converter, start: date, end: date
) -> tuple[Decimal | None, Decimal, Decimal, Decimal]:
    """The customer's return on the securities from ``start`` to ``end`` (Modified Dietz).

    Returns (return in percent, value at start, value at end, net flows), in the
    base currency; the return is None when nothing was invested over the period.
    """

    def value_at(day: date) -> Decimal:
        total = Decimal(0)
        for symbol, trades in p.trades.items():
            held = sum((t.quantity for t in trades if t.on <= day), Decimal(0))
            close = p.prices[symbol].on_or_before(day) if symbol in p.prices else None
            if held and close is not None:
                total += held * close * fx.rate(p.instrument_currency[symbol], day)
        return total

    span = Decimal((end - start).days)
    flows = weighted = Decimal(0)

    def flow(day: date, amount: Decimal) -> None:
        nonlocal flows, weighted
        flows += amount
        weighted += amount * (end - day).days / span

    for symbol, trades in p.trades.items():
        for t in trades:
            if start < t.on <= end:
                flow(t.on, t.quantity * t.price * fx.rate(p.instrument_currency[symbol], t.on))
    for event in p.income:
        if start < event.on <= end:
            flow(event.on, -event.amount * fx.rate(event.currency, event.on))
    start_value, end_value = value_at(start), value_at(end)
    base = start_value + weighted
    result = None if base <= 0 else ((end_value - start_value - flows) * HUNDRED / base)
    return (
        None if result is None else result.quantize(PERCENT_PLACES),
        to_cents(start_value),
        to_cents(end_value),
        to_cents(flows),
    )


def _position_values(p: PortfolioInputs, fx: Converter) -> list[PositionValue]:
    values = []
    for d in sorted(p.derivatives, key=lambda d: (d.expiry_date, d.id)):
        spot = p.prices[d.underlying_symbol].on_or_before(p.as_of)
        if d.status != "open" or spot is None:
            continue
        sign = 1 if d.side == "long" else -1
        units = d.contracts * d.multiplier
        if d.instrument_type == "option" and d.option_type and d.strike is not None:
            years = max((d.expiry_date - p.as_of).days, 0) / 365
            volatility = p.volatility.get(d.underlying_symbol, 0.3)
            price, delta = black_scholes(
                d.option_type, float(spot), float(d.strike), years, volatility
            )
            unit = Decimal(repr(price)).quantize(UNIT_PLACES)
            unit_delta = Decimal(repr(delta)).quantize(UNIT_PLACES)
            method = "black_scholes"
        else:
            unit = spot - (d.trade_price or spot)
            unit_delta, method = Decimal(1), "mark_to_market"
        values.append(
            PositionValue(
                id=d.id,
                underlying_symbol=d.underlying_symbol,
                instrument_type=d.instrument_type,
                option_type=d.option_type,
                side=d.side,
                contracts=d.contracts,
                multiplier=d.multiplier,
                strike=d.strike,
                expiry_date=d.expiry_date,
                underlying_price=spot,
                unit_value=unit,
                market_value=to_cents(sign * unit * units * fx.rate(d.currency, p.as_of)),
                delta=unit_delta,
                delta_units=(sign * unit_delta * units).quantize(PERCENT_PLACES),
                method=method,
            )
        )
    return values


def _derivative_exposure(p: PortfolioInputs, fx: Converter) -> DerivativeExposure:
    open_positions = [d for d in p.derivatives if d.status == "open"]
    paid, received, notional = Decimal(0), Decimal(0), Decimal(0)
    for d in open_positions:
        rate = fx.rate(d.currency, p.as_of)
        units = d.contracts * d.multiplier
        if d.premium is not None:
            premium = to_cents(d.premium * units * rate)
            if d.side == "long":
                paid += premium
            else:
                received += premium
        underlying = p.prices[d.underlying_symbol].on_or_before(p.as_of)
        if underlying is not None:
            notional += to_cents(underlying * units * rate)
    positions = _position_values(p, fx)
    horizon = p.as_of + timedelta(days=30)
    expiring = [
        ExpiringPosition(
            id=d.id,
            underlying_symbol=d.underlying_symbol,
            instrument_type=d.instrument_type,
            option_type=d.option_type,
            side=d.side,
            expiry_date=d.expiry_date,
            days_to_expiry=(d.expiry_date - p.as_of).days,
        )
        for d in sorted(open_positions, key=lambda d: (d.expiry_date, d.id))
        if p.as_of <= d.expiry_date <= horizon
    ]
    return DerivativeExposure(
        open_positions=len(open_positions),
        premium_paid=paid,
        premium_received=received,
        net_premium=received - paid,
        total_premium=paid + received,
        notional=notional,
        nearest_expiry=min(
            (d.expiry_date for d in open_positions if d.expiry_date >= p.as_of), default=None
        ),
        expiring_within_30_days=expiring,
        market_value=sum((v.market_value for v in positions), Decimal(0)),
        positions=positions,
    )


def spending_totals(
    rows: Sequence[SpendingOut],
    fx: Converter,
    now: date,
    *,
    by: str,
    payments: Sequence[CashEvent] = (),
) -> tuple[dict[str, Decimal], dict[str, int]]:
    """Spending in the base currency and card payments, per category or per month.

    A month's spending in the base currency is kept as it is; in another
    currency, each of its card payments is converted at the rate of its own day
    (``payments``), and the month's sum rounded to the cent.
    """
    converted: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for payment in payments:
        if payment.currency != fx.base:
            paid = (payment.on.strftime("%Y-%m"), payment.category, payment.currency)
            converted[paid] -= payment.amount * fx.rate(payment.currency, payment.on)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        key = row.category if by == "category" else row.month
        if row.currency == fx.base:
            totals[key] += row.amount
        elif (row.month, row.category, row.currency) in converted:
            totals[key] += to_cents(converted[(row.month, row.category, row.currency)])
        else:
            totals[key] += to_cents(row.amount * fx.rate(row.currency, now))
        counts[key] += row.transaction_count
    return totals, counts


def _spending_insight(
    rows: Sequence[SpendingOut], fx: Converter, now: date, payments: Sequence[CashEvent]
) -> SpendingInsight:
    by_category, _ = spending_totals(rows, fx, now, by="category", payments=payments)
    by_month, _ = spending_totals(rows, fx, now, by="month", payments=payments)
    shares = shares_of_100(by_category)
    # Every calendar month from the first to the latest counts, with or without spending.
    months = calendar_months(min(by_month), max(by_month)) if by_month else []
    total = sum(by_month.values(), Decimal(0))
    latest = months[-1] if months else None
    change = change_percent = None
    if len(months) >= 2:
        previous = by_month.get(months[-2], Decimal(0))
        change = by_month[months[-1]] - previous
        change_percent = percent(change, previous)
    return SpendingInsight(
        by_category=[
            CategoryTotal(category=c, total=by_category[c], percent=shares[c])
            for c in sorted(by_category, key=lambda c: (-by_category[c], c))
        ],
        by_month=[MonthTotal(month=m, total=by_month.get(m, Decimal(0))) for m in months],
        average_month=to_cents(total / len(months)) if months else Decimal(0),
        latest_month=latest,
        latest_month_change=change,
        latest_month_change_percent=change_percent,
    )
