"""Portfolio arithmetic on plain values: the summary, valuation, allocation and spending trend.

Nothing here touches the database; ``services/portfolio.py`` gathers the rows and
calls these functions. Everything is ``Decimal``: amounts are rounded to the cent
only when shown, percentages to two places, and percentages that describe
shares of one whole are rounded so that they add up to exactly 100. Performance
is in ``performance.py``, derivatives exposure in ``exposure.py``, and what all
of them share in ``valuation.py``.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import ROUND_FLOOR, Decimal

from analysis.exposure import derivative_exposure
from analysis.performance import measure_performance
from analysis.risk import assess_risk, headline
from analysis.valuation import RATE_PLACES, CashEvent, Converter, PortfolioInputs, Trade, percent
from core.money import to_cents
from schemas.portfolio import AssetOut, BankAccountOut, SpendingOut
from schemas.summary import (
    Allocation,
    AllocationSlice,
    CashBalance,
    CategoryTotal,
    Concentration,
    FxRateUsed,
    HasData,
    Holding,
    MonthTotal,
    PortfolioSummary,
    SpendingInsight,
    Totals,
)


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
        performance=measure_performance(p, fx),
        derivatives=derivative_exposure(p, fx),
        spending=spending,
        risk=headline(assess_risk(p, fx, holdings)),
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


def average_cost_base(trades: Iterable[Trade], fx: Converter, currency: str) -> Decimal | None:
    """Average cost per unit in the base currency, each buy at its trade date's rate."""
    quantity, cost = Decimal(0), Decimal(0)
    for trade in sorted(trades, key=lambda t: t.on):
        if trade.quantity > 0:
            cost += trade.quantity * trade.price * fx.rate(currency, trade.on)
        elif quantity:
            cost -= cost * (-trade.quantity) / quantity
        quantity += trade.quantity
    return cost / quantity if quantity > 0 else None


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


def calendar_months(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` (both YYYY-MM), in order."""
    year, month = int(first[:4]), int(first[5:])
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    return months
