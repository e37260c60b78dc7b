"""Market data: the as-of date, prices, FX rates, base currencies, quotes and price history."""

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import Session, col, select

from analytics import Converter, History, months_before, percent
from errors import InvalidInput, NotFound
from models import FxRate, Instrument, InstrumentPrice
from money import BASE_CURRENCY, CURRENCIES
from schemas import Close, MarketDataResponse, PriceChange, PriceHistory, Quote

MAX_SYMBOLS = 50


def market_as_of(session: Session) -> date:
    """The last day the bank has prices for: every valuation is as of this day."""
    latest = session.exec(select(func.max(InstrumentPrice.price_date))).one()
    return latest or date.today()


def latest_prices(session: Session, symbols: Iterable[str]) -> dict[str, InstrumentPrice]:
    """The most recent close of each symbol (one indexed look-up per symbol)."""
    wanted = sorted(set(symbols))
    if not wanted:
        return {}
    newest = (
        select(InstrumentPrice.symbol, func.max(InstrumentPrice.price_date).label("price_date"))
        .where(col(InstrumentPrice.symbol).in_(wanted))
        .group_by(col(InstrumentPrice.symbol))
        .subquery()
    )
    rows = session.exec(
        select(InstrumentPrice).join(
            newest,
            (col(InstrumentPrice.symbol) == newest.c.symbol)
            & (col(InstrumentPrice.price_date) == newest.c.price_date),
        )
    )
    return {row.symbol: row for row in rows}


def price_histories(session: Session, symbols: Iterable[str], since: date) -> dict[str, History]:
    wanted = sorted(set(symbols))
    points: dict[str, list[tuple[date, Decimal]]] = {symbol: [] for symbol in wanted}
    if wanted:
        rows = session.exec(
            select(
                col(InstrumentPrice.symbol),
                col(InstrumentPrice.price_date),
                col(InstrumentPrice.close),
            )
            .where(col(InstrumentPrice.symbol).in_(wanted), InstrumentPrice.price_date >= since)
            .order_by(col(InstrumentPrice.symbol), col(InstrumentPrice.price_date))
        )
        for symbol, day, close in rows:
            points[symbol].append((day, close))
    return {symbol: History(series) for symbol, series in points.items()}


def fx_histories(session: Session, since: date) -> dict[str, History]:
    """US dollars per unit of each currency the bank quotes, day by day since ``since``."""
    points: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
    rows = session.exec(
        select(col(FxRate.currency), col(FxRate.rate_date), col(FxRate.usd_per_unit))
        .where(FxRate.rate_date >= since)
        .order_by(col(FxRate.currency), col(FxRate.rate_date))
    )
    for currency, day, rate in rows:
        points[currency].append((day, rate))
    return {currency: History(series) for currency, series in points.items()}


def resolve_currency(currency: str | None) -> str:
    """The base currency asked for (USD by default), or ``InvalidInput`` listing the choices."""
    if currency is None:
        return BASE_CURRENCY
    code = currency.strip().upper()
    if code not in CURRENCIES:
        shown = currency[:10]
        raise InvalidInput(
            f"currency: '{shown}' is not supported; use one of {', '.join(sorted(CURRENCIES))}"
        )
    return code


"""How far back the latest rate may lie: longer than any market holiday."""


def converter(session: Session, base: str, as_of: date) -> Converter:
    # The whole history: a cost basis converts each buy at its own trade date's rate.
    return Converter(fx_histories(session, date.min), base)


def _instruments(
    session: Session, symbols: Iterable[str] | None, *, field: str = "symbols"
) -> list[Instrument]:
    query = select(Instrument).order_by(col(Instrument.symbol))
    if symbols is None:
        return list(session.exec(query))
    wanted = list(dict.fromkeys(s.strip().upper() for s in symbols if s.strip()))
    if not wanted:
        raise InvalidInput(f"{field}: give at least one symbol, such as AAPL or BTC")
    if len(wanted) > MAX_SYMBOLS:
        raise InvalidInput(f"symbols: at most {MAX_SYMBOLS} symbols per request")
    found = {i.symbol: i for i in session.exec(query.where(col(Instrument.symbol).in_(wanted)))}
    unknown = [symbol[:16] for symbol in wanted if symbol not in found]
    if unknown:
        raise NotFound(f"Unknown symbols: {', '.join(unknown)}")
    return [found[symbol] for symbol in wanted]


def read_quotes(session: Session, symbols: Iterable[str] | None = None) -> MarketDataResponse:
    """Latest close of each symbol (all instruments when none are named) and its changes."""
    instruments = _instruments(session, symbols)
    as_of = market_as_of(session)
    histories = price_histories(
        session, (i.symbol for i in instruments), months_before(as_of, 12) - timedelta(days=7)
    )
    quotes = []
    for instrument in instruments:
        history = histories[instrument.symbol]
        if not history.dates:
            continue
        price, price_date = history.values[-1], history.dates[-1]

        def change(
            since: date, price: Decimal = price, history: History = history
        ) -> PriceChange | None:
            index = bisect_right(history.dates, since)
            if not index:
                return None
            previous = history.values[index - 1]
            return PriceChange(
                since=history.dates[index - 1],
                previous_close=previous,
                change=price - previous,
                change_percent=percent(price - previous, previous),
            )

        quotes.append(
            Quote(
                symbol=instrument.symbol,
                name=instrument.name,
                asset_type=instrument.asset_type,
                currency=instrument.currency,
                price=price,
                price_date=price_date,
                change_1d=change(price_date - timedelta(days=1)),
                change_30d=change(price_date - timedelta(days=30)),
                change_1y=change(months_before(price_date, 12)),
            )
        )
    return MarketDataResponse(as_of=as_of, quotes=quotes)


def read_price_history(
    session: Session, symbol: str, date_from: date | None = None, date_to: date | None = None
) -> PriceHistory:
    """Daily closes of one symbol between two dates (the last year by default)."""
    (instrument,) = _instruments(session, [symbol], field="symbol")
    date_to = date_to or market_as_of(session)
    date_from = date_from or months_before(date_to, 12)
    if date_from > date_to:
        raise InvalidInput(
            f"from: {date_from} is after to: {date_to}; from must be on or before to"
        )
    rows = session.exec(
        select(col(InstrumentPrice.price_date), col(InstrumentPrice.close))
        .where(
            InstrumentPrice.symbol == instrument.symbol,
            InstrumentPrice.price_date >= date_from,
            InstrumentPrice.price_date <= date_to,
        )
        .order_by(col(InstrumentPrice.price_date))
    )
    return PriceHistory(
        symbol=instrument.symbol,
        name=instrument.name,
        currency=instrument.currency,
        from_date=date_from,
        to_date=date_to,
        closes=[Close(date=day, close=close) for day, close in rows],
    )
