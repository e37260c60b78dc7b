"""A new market day in a database: the closes of the continued market, stored as the
history's are. Every answer's ``as_of`` is the newest close, so storing a day moves it."""

from datetime import date
from decimal import Decimal

from sqlalchemy import func, insert, select
from sqlmodel import Session

from market.continuation import Scripted, closes_on
from models import FxRate, InstrumentPrice
from services.effects import MARKET_DAY_CLOSED, Effect

_P = InstrumentPrice.__table__.c  # type: ignore[attr-defined]
_FX = FxRate.__table__.c  # type: ignore[attr-defined]

Last = dict[str, tuple[date, Decimal]]
"""By symbol or currency: the day and value of the newest stored close."""


def last_closes(session: Session) -> tuple[Last, Last]:
    """Each instrument's and each currency's newest stored close."""
    connection = session.connection()
    newest = select(_P.symbol, func.max(_P.price_date).label("day")).group_by(_P.symbol)
    found = newest.subquery()
    prices = connection.execute(
        select(_P.symbol, _P.price_date, _P.close).join(
            found, (found.c.symbol == _P.symbol) & (found.c.day == _P.price_date)
        )
    )
    newest_rate = select(_FX.currency, func.max(_FX.rate_date).label("day")).group_by(_FX.currency)
    rate_days = newest_rate.subquery()
    rates = connection.execute(
        select(_FX.currency, _FX.rate_date, _FX.usd_per_unit).join(
            rate_days, (rate_days.c.currency == _FX.currency) & (rate_days.c.day == _FX.rate_date)
        )
    )
    return (
        {symbol: (day, close) for symbol, day, close in prices},
        {currency: (day, rate) for currency, day, rate in rates},
    )


def close_market_day(
    session: Session, seed: int, day: date, prices: Last, rates: Last, scripted: Scripted = ()
) -> list[Effect]:
    """Store ``day``'s closes and rates, continuing from ``prices`` and ``rates`` (updated
    in place to the new day's); ``scripted`` moves of factors are the sandbox's script's."""
    closes = closes_on(seed, day, prices, rates, scripted)
    connection = session.connection()
    if closes.prices:
        connection.execute(
            insert(InstrumentPrice),
            [{"symbol": s, "price_date": day, "close": c} for s, c in closes.prices.items()],
        )
    if closes.rates:
        connection.execute(
            insert(FxRate),
            [{"currency": c, "rate_date": day, "usd_per_unit": r} for c, r in closes.rates.items()],
        )
    prices.update({symbol: (day, close) for symbol, close in closes.prices.items()})
    rates.update({currency: (day, rate) for currency, rate in closes.rates.items()})
    return [
        Effect(
            MARKET_DAY_CLOSED,
            None,
            {
                "day": day.isoformat(),
                "closes": {symbol: str(close) for symbol, close in closes.prices.items()},
                "usd_per_unit": {code: str(rate) for code, rate in closes.rates.items()},
            },
        )
    ]
